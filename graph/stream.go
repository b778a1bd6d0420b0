package graph

import "context"

// StreamHooks let a transport serve a subscription without a goroutine
// parked on its channel for the subscription's life. The transport puts
// them in the context it dispatches with (WithStreamHooks); a resolver
// whose stream tells when it has a value (inbox.Stream's ready) passes
// Ready to it and calls Pushed once the stream is running. The transport
// then receives from the channel only after Ready, when the receive does
// not block. A resolver that does neither leaves the transport waiting on
// the channel, as gqlgen's own transports do.
type StreamHooks struct {
	// Ready is called after each value is put on the channel and once
	// after it is closed.
	Ready func()
	// Pushed says the stream will call Ready.
	Pushed func()
}

type streamHooksKey struct{}

// WithStreamHooks returns ctx carrying h.
func WithStreamHooks(ctx context.Context, h *StreamHooks) context.Context {
	return context.WithValue(ctx, streamHooksKey{}, h)
}

// streamReady returns the transport's Ready (nil when it waits on the
// channel) and the function to call once the stream runs.
func streamReady(ctx context.Context) (ready, pushed func()) {
	if h, _ := ctx.Value(streamHooksKey{}).(*StreamHooks); h != nil {
		return h.Ready, h.Pushed
	}
	return nil, func() {}
}
