package push

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/regulars/regulars/inbox"
)

// Message is one push to one device.
type Message struct {
	Token    string
	Platform Platform
	Title    string
	Body     string
	DeepLink string
	Kind     inbox.Kind
	// NotificationID (hex) travels in the data and is the collapse id: a
	// push sent again replaces the first on the phone instead of doubling it.
	NotificationID string
}

// Provider sends pushes to one family of devices. Send returns nil when
// the provider accepted the push, a *SendError when it refused it, and any
// other error when it could not be reached (retried).
type Provider interface {
	Send(ctx context.Context, m Message) error
}

// SendError is a provider's refusal.
type SendError struct {
	Status int    // the HTTP status
	Reason string // the provider's code: UNREGISTERED, BadDeviceToken…
	// Unregistered: the token will never work again; it is deleted.
	Unregistered bool
	// Retryable: try again later (429, 5xx), after RetryAfter when the
	// provider said (0: backoff decides).
	Retryable  bool
	RetryAfter time.Duration
}

func (e *SendError) Error() string { return fmt.Sprintf("push refused: %d %s", e.Status, e.Reason) }

// retryAfter reads a Retry-After header, in seconds or as an HTTP date
// (RFC 9110 10.2.3); 0 when absent or unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// retryableStatus: 429 and every 5xx are worth another try.
func retryableStatus(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}
