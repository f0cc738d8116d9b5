// Command devdb runs an embedded FerretDB (MongoDB wire protocol) on loopback
// so that tests and zero-config runs need no downloaded mongod.
//
// It adds what FerretDB 1.24 lacks for a chat backend's hot path: an index that
// serves FerretDB's own `_id` filter (sqliteindex.go, pgindex.go), and an
// explicit durability setting for the SQLite files (sqliteURL).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// sqliteMmapBytes bounds the memory-mapped part of each database file (address
// space, shared by all connections; pages beyond it are read as usual).
const sqliteMmapBytes = 256 << 20

type config struct {
	port        int
	dir         string
	backend     string
	pgURL       string
	logLevel    slog.Level
	synchronous string
	pprofAddr   string
}

// usageError is a bad flag or environment value: exit code 2, like the flag package.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("devdb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.String("port", env("DEVDB_PORT", "27017"), "TCP port on 127.0.0.1 (0: any free port, printed on stdout) [DEVDB_PORT]")
	dir := fs.String("dir", env("DEVDB_DIR", ".data/devdb"), "SQLite data directory [DEVDB_DIR]")
	backend := fs.String("backend", env("DEVDB_BACKEND", "sqlite"), "sqlite or postgresql [DEVDB_BACKEND]")
	pgURL := fs.String("postgresql-url", env("DEVDB_POSTGRESQL_URL", "postgres://postgres@127.0.0.1:5432/devdb"),
		"PostgreSQL URL for the postgresql backend; the database must exist [DEVDB_POSTGRESQL_URL]")
	logLevel := fs.String("log-level", env("DEVDB_LOG_LEVEL", "error"), "debug, info, warn or error [DEVDB_LOG_LEVEL]")
	sync := fs.String("sqlite-synchronous", env("DEVDB_SQLITE_SYNCHRONOUS", "normal"),
		"SQLite synchronous pragma: normal (an acknowledged write is committed to the WAL: it survives a crash of devdb or of the server, not of the machine) or full (also fsynced before the acknowledgement; about 3x slower writes) [DEVDB_SQLITE_SYNCHRONOUS]")
	pprofAddr := fs.String("pprof", env("DEVDB_PPROF", ""), "serve Go's net/http/pprof on this loopback address, e.g. 127.0.0.1:6060 (profiling only) [DEVDB_PPROF]")
	if err := fs.Parse(args); err != nil {
		return nil, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}

	o := &config{dir: *dir, backend: *backend, pgURL: *pgURL, synchronous: *sync, pprofAddr: *pprofAddr}
	p, err := strconv.Atoi(*port)
	if err != nil || p < 0 || p > 65535 {
		return nil, usageError{fmt.Sprintf("port must be a number from 0 to 65535, got %q", *port)}
	}
	o.port = p
	if o.backend != "sqlite" && o.backend != "postgresql" {
		return nil, usageError{fmt.Sprintf("backend must be sqlite or postgresql, got %q", o.backend)}
	}
	if err := o.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return nil, usageError{fmt.Sprintf("log level must be debug, info, warn or error, got %q", *logLevel)}
	}
	if o.synchronous != "full" && o.synchronous != "normal" {
		return nil, usageError{fmt.Sprintf("sqlite-synchronous must be full or normal, got %q", o.synchronous)}
	}
	return o, nil
}

// sqliteURL is FerretDB's SQLite URI: the directory, plus the pragmas devdb
// decides. FerretDB adds busy_timeout(10000), journal_mode(wal) and
// auto_vacuum(none) itself (internal/backends/sqlite/metadata/pool/uri.go).
// synchronous is set explicitly rather than left to the build's default (FULL):
// devdb uses NORMAL. In WAL mode a NORMAL commit has written the transaction to
// the WAL before FerretDB answers, so an acknowledged write survives a crash of
// devdb or of the server (tested: SIGKILL right after the acks); only a crash of
// the machine can lose the last commits, never corrupt the file. FULL adds an
// fsync per commit, measured at ~2 ms here: 3x the cost of an insert, and it
// holds SQLite's single write lock meanwhile (docs/architecture.md).
//
// mmap_size lets every connection read the database file through one shared
// mapping instead of its own page cache (pread + copy per cold page). FerretDB
// keeps up to 100 connections per file, so concurrent reads mostly land on cold
// caches: measured, a page of 51 concurrent _id lookups took 97-178 ms with the
// mapping vs 156-410 ms without (sequential lookups unchanged within the noise).
func sqliteURL(dir, synchronous string) string {
	q := url.Values{}
	q.Add("_pragma", "synchronous("+synchronous+")")
	q.Add("_pragma", fmt.Sprintf("mmap_size(%d)", sqliteMmapBytes))
	return "file:" + dir + "/?" + q.Encode()
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	if o.pprofAddr != "" {
		if err := servePprof(o.pprofAddr); err != nil {
			return err
		}
	}
	logger := slog.New(newLogHandler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}), o.logLevel, nil))
	conf := ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: fmt.Sprintf("127.0.0.1:%d", o.port)}}

	switch o.backend {
	case "sqlite":
		dir, err := filepath.Abs(o.dir)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		start := time.Now()
		n, err := ensureSQLiteIDIndexes(ctx, dir)
		if err != nil {
			return fmt.Errorf("indexing existing data: %w", err)
		}
		logger.Info("devdb: _id indexes checked", slog.Int("tables", n), slog.Duration("time", time.Since(start)))
		onTable := func(dbName, table string) {
			file := filepath.Join(dir, dbName+".sqlite")
			if err := ensureSQLiteIDIndex(context.Background(), file, table); err != nil {
				logger.Error("devdb: cannot create the _id index; lookups on this collection will scan until restart",
					slog.String("file", file), slog.String("table", table), slog.String("error", err.Error()))
			}
		}
		logger = slog.New(newLogHandler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}), o.logLevel, onTable))
		conf.Handler = "sqlite"
		conf.SQLiteURL = sqliteURL(dir, o.synchronous)
	case "postgresql":
		ix, err := newPGIndexer(ctx, o.pgURL, logger)
		if err != nil {
			return fmt.Errorf("postgresql: %w", err)
		}
		defer ix.close()
		if err := ix.sweep(ctx); err != nil {
			return fmt.Errorf("postgresql: indexing existing data: %w", err)
		}
		go ix.run(ctx, pgSweepInterval)
		conf.Handler = "postgresql"
		conf.PostgreSQLURL = o.pgURL
	}
	conf.Logger = logger

	f, err := ferretdb.New(&conf)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	fmt.Fprintf(stdout, "devdb listening on %s (backend %s)\n", f.MongoDBURI(), o.backend)
	<-done
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "devdb:", err)
	if errors.As(err, new(usageError)) {
		os.Exit(2)
	}
	os.Exit(1)
}
