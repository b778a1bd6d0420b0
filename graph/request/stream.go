// Package request holds what one GraphQL operation carries in its context:
// the request's id and client address, the operation's loaders, and the
// hooks a transport gives a subscription's stream.
package request

import (
	"context"
	"fmt"
)

// StreamHooks let a transport hold a subscription for the price of its
// stream alone: no goroutine parked on the channel, and none of the
// operation's execution state (operation and field contexts, per-request
// loaders, the response handler's closures) kept for the subscription's
// life.
//
// The transport dispatches the subscription once with the hooks in its
// context (WithStreamHooks). A resolver whose stream tells when it has a
// value (inbox.Stream's ready) starts that stream in Context instead of the
// operation's own, passes Ready to it, and hands the stream to Detach; the
// transport then drops the dispatched operation. For each value, once Ready
// said it waits, the transport takes it with the function Detach received
// (it does not block then) and runs the operation again with the value in
// its context (WithStreamValue): the resolver answers that run with the
// value alone, and the operation's selection is executed on it as for any
// result. A resolver that does none of this leaves the transport reading
// the dispatched operation, as gqlgen's own transports do.
type StreamHooks struct {
	// Context is what the stream runs in: it ends when the subscription
	// does and carries none of the operation's state (the operation's own
	// when nil).
	Context context.Context
	// Ready is called after each value is put on the channel and once
	// after it is closed.
	Ready func()
	// Detach receives the stream once it runs: next takes its next value,
	// false once the channel is closed.
	Detach func(next func() (value any, ok bool))
}

type streamHooksKey struct{}

// WithStreamHooks returns ctx carrying h.
func WithStreamHooks(ctx context.Context, h *StreamHooks) context.Context {
	return context.WithValue(ctx, streamHooksKey{}, h)
}

type streamValueKey struct{}

// WithStreamValue returns ctx in which a detached subscription's operation
// runs for one value of its stream (see StreamHooks).
func WithStreamValue(ctx context.Context, v any) context.Context {
	return context.WithValue(ctx, streamValueKey{}, v)
}

// PushStream serves a subscription from a stream that tells when it has a
// value: start runs it in ctx, calling ready (nil when the transport waits
// on the channel) after each value and once after closing it. Under a
// transport's StreamHooks the stream is detached; in a run for one of its
// values (WithStreamValue) that value is the whole stream.
func PushStream[T any](ctx context.Context, start func(ctx context.Context, ready func()) (<-chan T, error)) (<-chan T, error) {
	if v := ctx.Value(streamValueKey{}); v != nil {
		t, ok := v.(T)
		if !ok {
			return nil, fmt.Errorf("request: stream value %T, want %T", v, t)
		}
		ch := make(chan T, 1)
		ch <- t
		close(ch)
		return ch, nil
	}
	h, _ := ctx.Value(streamHooksKey{}).(*StreamHooks)
	if h == nil {
		return start(ctx, nil)
	}
	sctx := h.Context
	if sctx == nil {
		sctx = ctx
	}
	ch, err := start(sctx, h.Ready)
	if err != nil {
		return nil, err
	}
	h.Detach(func() (any, bool) {
		v, ok := <-ch
		return v, ok
	})
	return ch, nil
}
