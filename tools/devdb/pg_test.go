package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.mongodb.org/mongo-driver/bson"
)

// pgDatabase creates a fresh PostgreSQL database for one test and drops it after.
func pgDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("DEVDB_TEST_POSTGRESQL_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres"
	}
	ctx := ctxT(t)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL is required for the postgresql backend tests (DEVDB_TEST_POSTGRESQL_URL=%s): %v", admin, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "devdb_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func TestPostgreSQLBackend(t *testing.T) {
	pgURL := pgDatabase(t)
	s := startDevdb(t, []string{"DEVDB_BACKEND=postgresql", "DEVDB_POSTGRESQL_URL=" + pgURL})
	c := connect(t, s.uri)
	ctx := ctxT(t)
	coll := c.Database("chat").Collection("messages")
	crud(t, coll)
	indexLifecycle(t, coll)

	docs := make([]any, 3000)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("room:%d", i)}, {Key: "text", Value: strings.Repeat("x", 64)}}
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	// The sweep runs every 100 ms; FerretDB's plan for {_id: ...} must then use the GIN index.
	var plan string
	deadline := time.Now().Add(10 * time.Second)
	for {
		plan = explainPlan(t, coll, bson.D{{Key: "_id", Value: "room:42"}})
		if strings.Contains(plan, reservedPrefix+"devdb_id_") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(plan, reservedPrefix+"devdb_id_") {
		t.Fatalf("FerretDB's _id filter does not use devdb's GIN index; plan: %s", plan)
	}
	var got bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "room:42"}}).Decode(&got); err != nil {
		t.Fatal(err)
	}

	if err := c.Database("admin").RunCommand(ctx, bson.D{
		{Key: "renameCollection", Value: "chat.messages"}, {Key: "to", Value: "chat.renamed"},
	}).Err(); err != nil {
		t.Fatalf("renameCollection: %v", err)
	}
	renamed := c.Database("chat").Collection("renamed")
	if err := renamed.FindOne(ctx, bson.D{{Key: "_id", Value: "room:7"}}).Err(); err != nil {
		t.Fatalf("find after rename: %v", err)
	}
	if err := renamed.Drop(ctx); err != nil {
		t.Fatalf("drop: %v", err)
	}
	if err := c.Database("chat").Drop(ctx); err != nil {
		t.Fatalf("dropDatabase: %v", err)
	}
	crud(t, c.Database("chat").Collection("messages"))
	if strings.Contains(s.stderr.String(), "sweep failed") {
		t.Fatalf("devdb logged a failed sweep:\n%s", s.stderr.String())
	}
}
