package main

// FerretDB 1.24's PostgreSQL handler pushes equality filters down as
// `_jsonb->$1 @> $2` (jsonb containment, the key as a parameter), while the
// `_id_` index it creates is a B-tree on `(_jsonb->'_id')`, which serves `=` but
// not `@>`: a find by `_id` scans. devdb adds, per collection table, a GIN index
// on `(_jsonb->'_id')` (jsonb_path_ops supports `@>`). The planner matches it when
// it plans with the parameter values (custom plans; FerretDB's statements are
// prepared and cached, and PostgreSQL keeps custom plans while a generic one
// would cost more, which a sequential scan does). Updates and deletes by `_id`
// already use FerretDB's B-tree (`_jsonb->'_id' = $2`).
//
// PostgreSQL handles concurrent DDL itself (locks, no busy errors), so a sweep
// every pgSweepInterval finds tables without the index; at start it runs before
// FerretDB listens.

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const pgSweepInterval = 100 * time.Millisecond

// pgMissingIndexes lists FerretDB collection tables (in schemas that hold FerretDB's
// metadata table) without devdb's index. The index is named after the table's OID,
// with FerretDB's reserved prefix, so it can never clash with a FerretDB name.
const pgMissingIndexes = `
SELECT n.nspname, c.relname, c.oid::bigint
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND c.relname NOT LIKE '\_ferretdb\_%'
  AND EXISTS (SELECT 1 FROM pg_class m WHERE m.relnamespace = n.oid AND m.relname = '_ferretdb_database_metadata')
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = '_jsonb' AND NOT a.attisdropped)
  AND NOT EXISTS (
    SELECT 1 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
    WHERE x.indrelid = c.oid AND i.relname = '_ferretdb_devdb_id_' || c.oid::text)`

func pgIDIndexName(oid int64) string { return fmt.Sprintf("_ferretdb_devdb_id_%d", oid) }

func pgIDIndexDDL(schema, table string, oid int64) string {
	return fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s USING gin ((_jsonb->'_id') jsonb_path_ops)",
		pgx.Identifier{pgIDIndexName(oid)}.Sanitize(), pgx.Identifier{schema, table}.Sanitize())
}

type pgIndexer struct {
	pool *pgxpool.Pool
	l    *slog.Logger
}

func newPGIndexer(ctx context.Context, uri string, l *slog.Logger) (*pgIndexer, error) {
	cfg, err := pgxpool.ParseConfig(uri)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, err
	}
	return &pgIndexer{pool: pool, l: l}, nil
}

func (ix *pgIndexer) close() { ix.pool.Close() }

// sweep creates the missing indexes. A table dropped meanwhile is skipped.
func (ix *pgIndexer) sweep(ctx context.Context) error {
	rows, err := ix.pool.Query(ctx, pgMissingIndexes)
	if err != nil {
		return err
	}
	type table struct {
		schema, name string
		oid          int64
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var t table
		err := r.Scan(&t.schema, &t.name, &t.oid)
		return t, err
	})
	if err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := ix.pool.Exec(ctx, pgIDIndexDDL(t.schema, t.name, t.oid)); err != nil {
			if strings.Contains(err.Error(), "does not exist") {
				continue
			}
			return fmt.Errorf("index on %s.%s: %w", t.schema, t.name, err)
		}
	}
	return nil
}

func (ix *pgIndexer) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := ix.sweep(ctx); err != nil && ctx.Err() == nil {
				ix.l.Error("devdb: _id index sweep failed", slog.String("error", err.Error()))
			}
		}
	}
}
