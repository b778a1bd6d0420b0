package moderation

import (
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/fault"
)

// Decided answers a moderator whose action lost to another one made on the
// same post or thread at the same time: CONFLICT, with what was done, by
// whom and when (extensions.action, extensions.at).
type Decided struct {
	Action string
	By     bson.ObjectID
	ByName string // the display name of By, when known
	At     time.Time
}

func (e *Decided) Error() string {
	return fmt.Sprintf("another moderator acted first: %s at %s; read it again", e.Action, e.At.UTC().Format(time.RFC3339))
}

// ErrorCode is CONFLICT.
func (e *Decided) ErrorCode() fault.Code { return fault.Conflict }

// Extensions tell the client what was done.
func (e *Decided) Extensions() map[string]any {
	ext := map[string]any{"action": e.Action, "at": e.At.UTC().Format(time.RFC3339)}
	if e.ByName != "" {
		ext["by"] = e.ByName
	}
	return ext
}
