package embeddb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB's SQLite backend uses
)

// FerretDB 1.24's SQLite backend stores a collection as a table of JSON
// documents and gives it a unique index on the expression
// _ferretdb_sjson->"_id", but looks documents up by _id (a find by _id,
// and every document an update, findAndModify or delete writes) with
// _ferretdb_sjson->'$._id'. SQLite uses an index on an expression only for
// that very expression, so each of those look-ups scanned the collection
// and parsed every document's JSON: with a few thousand small documents
// (the leaderboard's tree), an update of one node took milliseconds and a
// purchase's tree moves, 50 to 100 nodes, hundreds.
//
// IndexIDs gives every collection an index on the expression the look-ups
// use, so that they are index look-ups as on MongoDB. The index is SQLite's
// alone: FerretDB neither lists it nor relies on it (its own unique index
// still enforces _id), DROP TABLE removes it with the collection, and
// results are the same with or without it; only the time changes.

// idIndexPrefix names the indexes IndexIDs adds: FerretDB's own index
// names start with their table's name, which never holds a colon.
const idIndexPrefix = "regulars_id_lookup:"

// idIndexSweep is how often the directory is checked for collections
// created since the last sweep (FerretDB creates a table on a collection's
// first write). A database file unchanged since is not opened.
const idIndexSweep = time.Second

// IndexIDs indexes the _id look-ups of every collection of every database
// in the directory that lacks the index (see above). It is safe while the
// database runs: it waits for FerretDB's writes (SQLite's busy timeout) and
// skips a database dropped meanwhile. Open runs it before starting
// FerretDB and then every second for the databases written since.
func (db *DB) IndexIDs(ctx context.Context) error {
	files, err := filepath.Glob(filepath.Join(db.dir, "*.sqlite"))
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range files {
		if err := indexIDs(ctx, f); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// indexIDs adds the missing _id look-up indexes of one database file.
func indexIDs(ctx context.Context, file string) (err error) {
	// mode=rw: a file FerretDB removed (dropDatabase) is not created again.
	// The connection lives a few milliseconds; a database dropped and made
	// again under the same name within them would find its new WAL file
	// removed when this connection closes. Regulars never drops a database
	// it uses, and each test's database has a name of its own.
	conn, err := sql.Open("sqlite", "file:"+file+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, conn.Close()) }()
	rows, err := conn.QueryContext(ctx, `SELECT c.table_name FROM _ferretdb_collections c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = ? || c.table_name)`, idIndexPrefix)
	if err != nil {
		if _, statErr := os.Stat(file); errors.Is(statErr, os.ErrNotExist) || strings.Contains(err.Error(), "no such table") {
			return nil // dropped meanwhile, or a database FerretDB has not set up yet
		}
		return fmt.Errorf("embedded database: %s: %w", filepath.Base(file), err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			_ = rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, idIndexPrefix+t, t)
		if _, err := conn.ExecContext(ctx, q); err != nil && !strings.Contains(err.Error(), "no such table") {
			return fmt.Errorf("embedded database: %s: index of %s: %w", filepath.Base(file), t, err)
		}
	}
	return nil
}

// indexIDsLoop runs IndexIDs for the database files written since the last
// sweep, every idIndexSweep until ctx ends.
func (db *DB) indexIDsLoop(ctx context.Context, logger *slog.Logger) {
	seen := map[string]time.Time{} // file → newest write of it or its WAL at the last sweep
	t := time.NewTicker(idIndexSweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		files, _ := filepath.Glob(filepath.Join(db.dir, "*.sqlite"))
		for _, f := range files {
			written := lastWrite(f)
			if written.Equal(seen[f]) {
				continue
			}
			if err := indexIDs(ctx, f); err != nil {
				if ctx.Err() == nil {
					logger.Warn("embedded database: indexing _id look-ups (they stay correct, only slower)", "err", err)
				}
				continue
			}
			// A file's time moves in clock ticks of a few milliseconds: a
			// write just after the sweep may leave it as it was, so a
			// recent time is swept again.
			if time.Since(written) > time.Second {
				seen[f] = written
			}
		}
		for f := range seen {
			if _, err := os.Stat(f); err != nil {
				delete(seen, f)
			}
		}
	}
}

// lastWrite is the newest modification time of a database file and its WAL.
func lastWrite(file string) time.Time {
	var last time.Time
	for _, f := range []string{file, file + "-wal"} {
		if fi, err := os.Stat(f); err == nil && fi.ModTime().After(last) {
			last = fi.ModTime()
		}
	}
	return last
}
