// Command devdb runs an embedded FerretDB (MongoDB wire protocol) on loopback
// so that tests and zero-config runs need no downloaded mongod.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	port := flag.Int("port", envInt("DEVDB_PORT", 27017), "TCP port on 127.0.0.1")
	dir := flag.String("dir", envStr("DEVDB_DIR", ".data/devdb"), "SQLite data directory")
	backend := flag.String("backend", envStr("DEVDB_BACKEND", "sqlite"), "sqlite or postgresql")
	pgURL := flag.String("postgresql-url", envStr("DEVDB_POSTGRESQL_URL", "postgres://postgres@127.0.0.1:5432/devdb"), "PostgreSQL URL for the postgresql backend")
	logLevel := flag.String("log-level", envStr("DEVDB_LOG_LEVEL", "error"), "FerretDB log level")
	flag.Parse()

	conf := ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: fmt.Sprintf("127.0.0.1:%d", *port)},
		Logger:   newLogger(*logLevel),
	}
	switch *backend {
	case "sqlite":
		abs, err := filepath.Abs(*dir)
		if err != nil {
			fatal(err)
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			fatal(err)
		}
		conf.Handler = "sqlite"
		conf.SQLiteURL = "file:" + abs + "/"
	case "postgresql":
		conf.Handler = "postgresql"
		conf.PostgreSQLURL = *pgURL
	default:
		fatal(fmt.Errorf("DEVDB_BACKEND must be sqlite or postgresql, got %q", *backend))
	}

	f, err := ferretdb.New(&conf)
	if err != nil {
		fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
	fmt.Printf("devdb listening on %s (backend %s)\n", f.MongoDBURI(), *backend)
	<-done
}

// newLogger keeps FerretDB quiet by default: its info logs drown test output.
func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func envStr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		var n int
		if _, err := fmt.Sscanf(v, "%d", &n); err == nil {
			return n
		}
		fatal(fmt.Errorf("DEVDB_PORT must be a number, got %q", v))
	}
	return def
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "devdb:", err)
	os.Exit(1)
}
