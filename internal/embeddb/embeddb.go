// Package embeddb runs FerretDB in-process over SQLite, so that development,
// demos and tests need no MongoDB. It speaks the MongoDB wire protocol on a
// loopback port; the real driver connects to URI as to MongoDB.
//
// The embedded database is for development, demos, tests and a single small
// instance. It has no transactions, change streams or TTL indexes, and every
// query scans its collection. FerretDB 1.x also does not apply concurrent
// updates of one document atomically (it reads, then writes), so every
// client reaches it through a proxy (proxy.go) that runs all commands, of
// all clients, one after another over one connection, each to its end even
// when its client gave up: every single-document update is atomic, as on
// MongoDB. URI also asks the driver for a pool of one connection, so that a
// client's commands wait in its own pool rather than in the proxy.
package embeddb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// marker names the file that says a directory holds Regulars' embedded
// database; a non-empty directory without it belongs to something else.
const marker = "REGULARS_EMBEDDED_DATABASE"

// lockFile is held with flock while a process uses the directory: two
// processes on one directory would break single-document atomicity.
const lockFile = "regulars.lock"

// DB is a running embedded database.
type DB struct {
	dir    string
	uri    string
	lock   *os.File
	proxy  *proxy
	cancel context.CancelFunc
	done   chan struct{}
}

// Open starts an embedded database storing its files in dir (created if
// missing) and listening on a free loopback port. It returns an error, and
// writes nothing, when dir cannot be written, holds files of another program,
// or is in use by another process.
func Open(dir string, logger *slog.Logger) (*DB, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	if err := prepare(abs); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(abs, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("embedded database: DATA_DIR %s is not writable: %w", abs, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = lock.Close() // the lock failure is what to report
		return nil, fmt.Errorf("embedded database: DATA_DIR %s is in use by another process (%v)", abs, err)
	}
	// Collections kept from an earlier run, before FerretDB opens them.
	if err := (&DB{dir: abs}).IndexIDs(context.Background()); err != nil {
		slog.Warn("embedded database: indexing _id look-ups (they stay correct, only slower)", "err", err)
	}
	if logger == nil {
		// FerretDB logs every connection at info and every command it lacks
		// (endSessions, which the driver sends on disconnect) at warn, with a
		// dump of the message; only its errors concern Regulars.
		logger = slog.New(errorsOnly{Handler: slog.Default().Handler()})
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/?_pragma=synchronous(normal)",
		Logger:    logger,
	})
	if err != nil {
		_ = lock.Close() // the start failure is what to report
		return nil, fmt.Errorf("embedded database in %s: %w", abs, err)
	}
	// New has opened FerretDB's listener, so its address is known.
	upstream, err := url.Parse(f.MongoDBURI())
	if err != nil {
		_ = lock.Close() // the bad address is what to report
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	px, err := startProxy(upstream.Host)
	if err != nil {
		_ = lock.Close() // the listen failure is what to report
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	db := &DB{dir: abs, lock: lock, proxy: px, cancel: cancel, done: make(chan struct{})}
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		db.indexIDsLoop(ctx, slog.Default())
	}()
	go func() {
		defer close(db.done)
		_ = f.Run(ctx)
		<-loopDone
	}()
	db.uri = "mongodb://" + px.addr() + "/?maxPoolSize=1"
	return db, nil
}

// prepare creates dir, or checks that an existing one is empty or ours, and
// that it can be written.
func prepare(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("embedded database: cannot create DATA_DIR %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("embedded database: cannot read DATA_DIR %s: %w", dir, err)
	}
	if len(entries) > 0 && !onlyPlaceholders(entries) {
		if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
			return fmt.Errorf("embedded database: DATA_DIR %s holds other files and no %s; choose an empty or new directory", dir, marker)
		}
		probe := filepath.Join(dir, ".write-probe")
		if err := os.WriteFile(probe, nil, 0o600); err != nil {
			return fmt.Errorf("embedded database: DATA_DIR %s is not writable: %w", dir, err)
		}
		return os.Remove(probe)
	}
	text := "This directory holds Regulars' embedded development database (FerretDB on SQLite).\nDelete the directory to start afresh; set MONGODB_URI to use MongoDB instead.\n"
	if err := os.WriteFile(filepath.Join(dir, marker), []byte(text), 0o600); err != nil {
		return fmt.Errorf("embedded database: DATA_DIR %s is not writable: %w", dir, err)
	}
	return nil
}

// onlyPlaceholders says whether a directory holds nothing but what a
// checkout or a mounted volume brings along (.gitkeep and other dot files,
// lost+found): such a directory counts as empty.
func onlyPlaceholders(entries []os.DirEntry) bool {
	for _, e := range entries {
		if name := e.Name(); name != marker && (strings.HasPrefix(name, ".") || name == "lost+found") {
			continue
		}
		return false
	}
	return true
}

// errorsOnly passes on records at error level and above. It applies the
// attributes and groups added to its logger only when it passes a record
// on: FerretDB adds the SQL of every statement it runs to its logger, and
// a text handler formats what it is given at once, for records that are
// almost never written (5% of a bulk insert's CPU).
type errorsOnly struct {
	slog.Handler
	with []func(slog.Handler) slog.Handler
}

func (h errorsOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError && h.Handler.Enabled(ctx, l)
}

func (h errorsOnly) WithAttrs(as []slog.Attr) slog.Handler {
	return errorsOnly{h.Handler, append(slices.Clip(h.with), func(x slog.Handler) slog.Handler { return x.WithAttrs(as) })}
}

func (h errorsOnly) WithGroup(name string) slog.Handler {
	return errorsOnly{h.Handler, append(slices.Clip(h.with), func(x slog.Handler) slog.Handler { return x.WithGroup(name) })}
}

func (h errorsOnly) Handle(ctx context.Context, r slog.Record) error {
	x := h.Handler
	for _, w := range h.with {
		x = w(x)
	}
	return x.Handle(ctx, r)
}

// Commands counts the commands every client has sent, handshakes and
// heartbeats left out.
func (db *DB) Commands() int64 { return db.proxy.receivedCommands() }

// URI is the connection string for this database: its proxy's address
// (see the package doc), with a pool of one connection.
func (db *DB) URI() string { return db.uri }

// Dir is the absolute directory holding the database files.
func (db *DB) Dir() string { return db.dir }

// Close stops the database after its connections end and releases the
// directory. Call it after disconnecting every client.
func (db *DB) Close() error {
	db.proxy.close()
	db.cancel()
	select {
	case <-db.done:
	case <-time.After(10 * time.Second):
		return errors.New("embedded database: did not stop within 10 s")
	}
	return db.lock.Close()
}
