package graph

import (
	"context"
	"github.com/regulars/regulars/graph/model"

	"github.com/regulars/regulars/input"
)

// Node is the resolver for the node field.
func (r *queryResolver) Node(ctx context.Context, id string) (model.Node, error) {
	ns, errs, err := r.root.resolveNodes(ctx, "id", []string{id})
	if err != nil {
		return nil, err
	}
	return ns[0], errs[0]
}

// Nodes is the resolver for the nodes field.
func (r *queryResolver) Nodes(ctx context.Context, ids []string) ([]model.Node, error) {
	if len(ids) > maxNodes {
		return nil, input.Errorf("ids", "at most %d ids at once, got %d", maxNodes, len(ids))
	}
	ns, errs, err := r.root.resolveNodes(ctx, "ids", ids)
	if err != nil {
		return nil, err
	}
	for i, err := range errs {
		if err != nil {
			addItemError(ctx, i, err)
		}
	}
	return ns, nil
}
