package main

// These tests build the devdb binary once and run it as the Node launcher does
// (server/src/data/devdb.ts), talking to it with the MongoDB Go driver.
// PostgreSQL tests need a server (DEVDB_TEST_POSTGRESQL_URL, default
// postgres://postgres@127.0.0.1:5432/postgres, trust auth); without one they
// fail, they never skip.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

var devdbBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "devdb-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	devdbBin = filepath.Join(dir, "devdb")
	build := exec.Command("go", "build", "-o", devdbBin, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "go build:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runDevdb runs the binary to completion (for the error cases) with a bounded time.
func runDevdb(t *testing.T, env []string, args ...string) (exitCode int, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, devdbBin, args...)
	cmd.Env = append(cleanEnv(), env...)
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0, errBuf.String()
	case errors.As(err, &exitErr):
		return exitErr.ExitCode(), errBuf.String()
	default:
		t.Fatalf("running devdb: %v", err)
		return -1, ""
	}
}

// cleanEnv drops DEVDB_* variables of the caller's shell so each test states its own.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DEVDB_") {
			env = append(env, kv)
		}
	}
	return env
}

type server struct {
	cmd    *exec.Cmd
	uri    string
	stderr *syncBuffer
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listeningRe = regexp.MustCompile(`^devdb listening on (mongodb://\S+) \(backend (\w+)\)$`)

// startDevdb starts the binary on a free port (-port 0) and waits for its
// "listening" line; the server is stopped (SIGTERM) at the end of the test.
func startDevdb(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(devdbBin, append([]string{"-port", "0"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	s := &server{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case line := <-lines:
		m := listeningRe.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unexpected first line %q", line)
		}
		s.uri = m[1]
	case err := <-s.done:
		t.Fatalf("devdb exited before listening: %v\n%s", err, s.stderr.String())
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("devdb did not listen within 60 s\n%s", s.stderr.String())
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop sends SIGTERM and waits; a clean exit is part of the contract.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("devdb exited with %v on SIGINT\n%s", err, s.stderr.String())
		}
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Errorf("devdb did not stop within 20 s of SIGINT")
	}
}

func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(uri).SetMaxPoolSize(20))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// explainPlan returns FerretDB's query plan for a find, as text.
func explainPlan(t *testing.T, coll *mongo.Collection, filter bson.D) string {
	t.Helper()
	var res bson.M
	cmd := bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: coll.Name()}, {Key: "filter", Value: filter}}}}
	if err := coll.Database().RunCommand(ctxT(t), cmd).Decode(&res); err != nil {
		t.Fatalf("explain: %v", err)
	}
	return fmt.Sprint(res["queryPlanner"])
}

// crud checks the ordinary operations and FerretDB's duplicate-key error.
func crud(t *testing.T, coll *mongo.Collection) {
	t.Helper()
	ctx := ctxT(t)
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	docs := []any{bson.D{{Key: "_id", Value: "b"}, {Key: "n", Value: 2}}, bson.D{{Key: "_id", Value: "c"}, {Key: "n", Value: 3}}}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: 9}})
	if !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("duplicate _id: want a duplicate key error, got %v", err)
	}
	var got bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "b"}}).Decode(&got); err != nil || got["n"] != int32(2) {
		t.Fatalf("findOne b: %v %v", got, err)
	}
	up, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "b"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 20}}}})
	if err != nil || up.MatchedCount != 1 || up.ModifiedCount != 1 {
		t.Fatalf("updateOne: %+v %v", up, err)
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "b"}}).Decode(&got); err != nil || got["n"] != int32(20) {
		t.Fatalf("findOne b after update: %v %v", got, err)
	}
	del, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: "c"}})
	if err != nil || del.DeletedCount != 1 {
		t.Fatalf("deleteOne: %+v %v", del, err)
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "c"}}).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatalf("deleted document still found: %v", err)
	}
	n, err := coll.CountDocuments(ctx, bson.D{})
	if err != nil || n != 2 {
		t.Fatalf("count: %d %v", n, err)
	}
}

// indexNames lists the indexes FerretDB reports (devdb's own must not appear).
func indexNames(t *testing.T, coll *mongo.Collection) []string {
	t.Helper()
	cur, err := coll.Indexes().List(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var specs []bson.M
	if err := cur.All(ctxT(t), &specs); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, fmt.Sprint(s["name"]))
	}
	return names
}

// indexLifecycle creates, lists and drops a secondary index through FerretDB.
func indexLifecycle(t *testing.T, coll *mongo.Collection) {
	t.Helper()
	ctx := ctxT(t)
	name, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "n", Value: 1}}})
	if err != nil {
		t.Fatalf("createIndex: %v", err)
	}
	if got := strings.Join(indexNames(t, coll), ","); got != "_id_,"+name {
		t.Fatalf("listIndexes after create: %s", got)
	}
	if _, err := coll.Indexes().DropOne(ctx, name); err != nil {
		t.Fatalf("dropIndex: %v", err)
	}
	if got := strings.Join(indexNames(t, coll), ","); got != "_id_" {
		t.Fatalf("listIndexes after drop: %s", got)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"bad backend flag", nil, []string{"-backend", "mongodb"}, `backend must be sqlite or postgresql, got "mongodb"`},
		{"bad backend env", []string{"DEVDB_BACKEND=postgres"}, nil, `backend must be sqlite or postgresql, got "postgres"`},
		{"port not a number", []string{"DEVDB_PORT=abc"}, nil, `port must be a number from 0 to 65535, got "abc"`},
		{"port out of range", nil, []string{"-port", "70000"}, `port must be a number from 0 to 65535, got "70000"`},
		{"negative port", nil, []string{"-port=-1"}, `port must be a number from 0 to 65535, got "-1"`},
		{"bad log level", nil, []string{"-log-level", "loud"}, `log level must be debug, info, warn or error, got "loud"`},
		{"synchronous off refused", []string{"DEVDB_SQLITE_SYNCHRONOUS=off"}, nil, `sqlite-synchronous must be full or normal, got "off"`},
		{"unknown flag", nil, []string{"-nope"}, "flag provided but not defined: -nope"},
		{"stray argument", nil, []string{"sqlite"}, `unexpected argument "sqlite"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stderr := runDevdb(t, append([]string{"DEVDB_DIR=" + t.TempDir()}, c.env...), c.args...)
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Fatalf("want exit 2 and %q, got exit %d and:\n%s", c.want, code, stderr)
			}
		})
	}
}

func TestRuntimeErrors(t *testing.T) {
	t.Run("port in use", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
		code, stderr := runDevdb(t, []string{"DEVDB_DIR=" + t.TempDir()}, "-port", port)
		if code != 1 || !strings.Contains(stderr, "address already in use") {
			t.Fatalf("want exit 1 and 'address already in use', got exit %d and:\n%s", code, stderr)
		}
	})
	t.Run("data directory is a file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		code, stderr := runDevdb(t, nil, "-port", "0", "-dir", f)
		if code != 1 || !strings.Contains(stderr, "not a directory") {
			t.Fatalf("want exit 1 and 'not a directory', got exit %d and:\n%s", code, stderr)
		}
	})
	t.Run("postgresql unreachable", func(t *testing.T) {
		code, stderr := runDevdb(t, nil, "-port", "0", "-backend", "postgresql",
			"-postgresql-url", "postgres://postgres@127.0.0.1:1/devdb?connect_timeout=2")
		if code != 1 || !strings.Contains(stderr, "devdb: postgresql:") {
			t.Fatalf("want exit 1 and 'devdb: postgresql:', got exit %d and:\n%s", code, stderr)
		}
	})
}

func TestEnvironmentConfiguresLikeFlags(t *testing.T) {
	dir := t.TempDir()
	s := startDevdb(t, []string{"DEVDB_DIR=" + dir, "DEVDB_BACKEND=sqlite"})
	c := connect(t, s.uri)
	if _, err := c.Database("envdb").Collection("c").InsertOne(ctxT(t), bson.D{{Key: "_id", Value: "x"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "envdb.sqlite")); err != nil {
		t.Fatalf("DEVDB_DIR not used: %v", err)
	}
}

func TestSQLiteURLCarriesDevdbPragmas(t *testing.T) {
	got := sqliteURL("/data", "normal")
	want := "file:/data/?_pragma=synchronous%28normal%29&_pragma=mmap_size%28268435456%29"
	if got != want {
		t.Fatalf("sqliteURL = %q, want %q", got, want)
	}
}
