package game

import (
	"context"
	"log/slog"
)

func logError(ctx context.Context, msg string, err error, args ...any) {
	slog.ErrorContext(ctx, "game: "+msg, append(args, "err", err)...)
}
