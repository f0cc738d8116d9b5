package main

import (
	"context"
	"log/slog"
	"strings"
)

// logHandler is the slog.Handler devdb gives FerretDB. It forwards records at or
// above the configured level to out, and it is how devdb learns, synchronously,
// that FerretDB's SQLite backend created a collection table: FerretDB's SQL layer
// (internal/util/fsql) logs every statement at debug level, "<<< " + SQL once it
// ran, on a logger named after the database ("sqlite", then the database name).
// That call happens inside FerretDB's registry lock, in the goroutine creating
// the collection, so onTable runs before any command can use the table and no
// dropDatabase can run meanwhile.
//
// It is also cheap: FerretDB calls Logger.With twice per SQL statement, and the
// standard text handler formats every attribute (statement arguments, that is
// whole documents) eagerly in WithAttrs. Here With only links the attributes;
// they are formatted only when a record is actually forwarded.
type logHandler struct {
	out     slog.Handler
	level   slog.Level
	onTable func(dbName, table string) // nil: no watching (PostgreSQL backend)

	parent *logHandler
	attrs  []slog.Attr
	group  string

	dbName  string // the logger's database name, under the "sqlite" logger
	sqlite  bool   // a "name"="sqlite" attribute was seen
	errText string // the nearest "error" attribute
}

func newLogHandler(out slog.Handler, level slog.Level, onTable func(dbName, table string)) *logHandler {
	return &logHandler{out: out, level: level, onTable: onTable}
}

func (h *logHandler) watching() bool {
	return h.onTable != nil && h.dbName != ""
}

func (h *logHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level || (l == slog.LevelDebug && h.watching())
}

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelDebug && h.watching() && h.errText == "<nil>" {
		if msg, ok := strings.CutPrefix(r.Message, "<<< "); ok {
			if table := parseCreateTable(msg); table != "" && !strings.HasPrefix(table, reservedPrefix) {
				h.onTable(h.dbName, table)
			}
		}
	}
	if r.Level < h.level {
		return nil
	}
	return h.resolve().Handle(ctx, r)
}

// resolve applies the chain of With/WithGroup calls to out (only for records that are printed).
func (h *logHandler) resolve() slog.Handler {
	if h.parent == nil {
		return h.out
	}
	base := h.parent.resolve()
	if h.group != "" {
		return base.WithGroup(h.group)
	}
	return base.WithAttrs(h.attrs)
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.parent, c.attrs, c.group = h, attrs, ""
	for _, a := range attrs {
		switch a.Key {
		case "name":
			name := a.Value.String()
			if c.sqlite {
				c.dbName = name
			}
			c.sqlite = c.sqlite || name == "sqlite"
		case "error":
			c.errText = a.Value.String()
		}
	}
	return &c
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.parent, c.attrs, c.group = h, nil, name
	return &c
}
