package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// wantIndexedPlan asserts that FerretDB's own plan for a bare _id filter (its
// explain runs EXPLAIN QUERY PLAN on the SQL it would issue) searches devdb's index.
func wantIndexedPlan(t *testing.T, coll *mongo.Collection) {
	t.Helper()
	plan := explainPlan(t, coll, bson.D{{Key: "_id", Value: "a"}})
	if !strings.Contains(plan, "USING INDEX "+reservedPrefix+"devdb_id_") {
		t.Fatalf("FerretDB's _id filter does not use devdb's index; plan: %s", plan)
	}
}

// sqliteTable returns the SQLite table FerretDB keeps a collection in.
func sqliteTable(t *testing.T, file, collection string) string {
	t.Helper()
	db, err := openSQLiteFile(file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var table string
	q := fmt.Sprintf("SELECT table_name FROM %q WHERE name = ?", reservedPrefix+"collections")
	if err := db.QueryRow(q, collection).Scan(&table); err != nil {
		t.Fatalf("%s: collection %s: %v", file, collection, err)
	}
	return table
}

// sqlitePlans runs EXPLAIN QUERY PLAN on the exact statements FerretDB 1.24
// issues for _id (internal/backends/sqlite/collection.go): Query, UpdateAll, DeleteAll.
func sqlitePlans(t *testing.T, file, table string) map[string]string {
	t.Helper()
	db, err := openSQLiteFile(file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stmts := map[string]string{
		"find":   fmt.Sprintf(`SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table),
		"update": fmt.Sprintf(`UPDATE %q SET _ferretdb_sjson = ? WHERE _ferretdb_sjson->'$._id' = ?`, table),
		"delete": fmt.Sprintf(`DELETE FROM %q WHERE _ferretdb_sjson->'$._id' IN (?, ?)`, table),
	}
	plans := map[string]string{}
	for name, q := range stmts {
		args := []any{`"a"`, `"b"`}
		if name == "find" {
			args = args[:1]
		}
		rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var lines []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, detail)
		}
		rows.Close()
		plans[name] = strings.Join(lines, "; ")
	}
	return plans
}

func TestSQLiteIDIndexServesFerretDBFilters(t *testing.T) {
	dir := t.TempDir()
	s := startDevdb(t, nil, "-dir", dir)
	c := connect(t, s.uri)
	coll := c.Database("plans").Collection("messages")
	crud(t, coll)
	wantIndexedPlan(t, coll)

	file := filepath.Join(dir, "plans.sqlite")
	table := sqliteTable(t, file, "messages")
	for name, plan := range sqlitePlans(t, file, table) {
		want := "USING INDEX " + sqliteIDIndexName(table)
		if !strings.Contains(plan, want) {
			t.Errorf("%s by _id: plan %q does not contain %q", name, plan, want)
		}
	}
}

func TestSQLiteFerretDBOperationsStillWork(t *testing.T) {
	dir := t.TempDir()
	s := startDevdb(t, nil, "-dir", dir)
	c := connect(t, s.uri)
	ctx := ctxT(t)
	db := c.Database("ops")

	t.Run("create collection explicitly, CRUD, indexes", func(t *testing.T) {
		if err := db.CreateCollection(ctx, "explicit"); err != nil {
			t.Fatal(err)
		}
		coll := db.Collection("explicit")
		wantIndexedPlan(t, coll)
		crud(t, coll)
		indexLifecycle(t, coll)
		wantIndexedPlan(t, coll)
	})

	t.Run("rename keeps the index", func(t *testing.T) {
		old := db.Collection("before")
		crud(t, old)
		if err := c.Database("admin").RunCommand(ctx, bson.D{
			{Key: "renameCollection", Value: "ops.before"}, {Key: "to", Value: "ops.after"},
		}).Err(); err != nil {
			t.Fatalf("renameCollection: %v", err)
		}
		renamed := db.Collection("after")
		wantIndexedPlan(t, renamed)
		var got bson.M
		if err := renamed.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&got); err != nil {
			t.Fatalf("find after rename: %v", err)
		}
	})

	t.Run("drop and recreate a collection", func(t *testing.T) {
		coll := db.Collection("again")
		crud(t, coll)
		if err := coll.Drop(ctx); err != nil {
			t.Fatalf("drop: %v", err)
		}
		if n, _ := coll.CountDocuments(ctx, bson.D{}); n != 0 {
			t.Fatalf("dropped collection still has %d documents", n)
		}
		crud(t, coll)
		wantIndexedPlan(t, coll)
	})

	t.Run("drop and recreate a database at once", func(t *testing.T) {
		other := c.Database("scratch")
		crud(t, other.Collection("x"))
		if err := other.Drop(ctx); err != nil {
			t.Fatalf("dropDatabase: %v", err)
		}
		coll := other.Collection("x")
		if n, _ := coll.CountDocuments(ctx, bson.D{}); n != 0 {
			t.Fatalf("dropped database still has %d documents", n)
		}
		crud(t, coll)
		wantIndexedPlan(t, coll)
	})

	t.Run("concurrent collection creation, writes and drops", func(t *testing.T) {
		// Each new table gets devdb's DDL from inside FerretDB's create; other
		// connections keep writing meanwhile: nothing may fail with SQLITE_BUSY.
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 6; i++ {
					coll := db.Collection(fmt.Sprintf("w%d_c%d", w, i))
					docs := make([]any, 50)
					for k := range docs {
						docs[k] = bson.D{{Key: "_id", Value: fmt.Sprintf("d%d", k)}, {Key: "k", Value: k}}
					}
					if _, err := coll.InsertMany(ctx, docs); err != nil {
						errs <- fmt.Errorf("%s insert: %w", coll.Name(), err)
						return
					}
					if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "d7"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "u", Value: true}}}}); err != nil {
						errs <- fmt.Errorf("%s update: %w", coll.Name(), err)
						return
					}
					if i%2 == 1 {
						if err := coll.Drop(ctx); err != nil {
							errs <- fmt.Errorf("%s drop: %w", coll.Name(), err)
							return
						}
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for w := 0; w < 8; w++ {
			wantIndexedPlan(t, db.Collection(fmt.Sprintf("w%d_c4", w)))
		}
		if strings.Contains(s.stderr.String(), "devdb: cannot create") {
			t.Fatalf("devdb logged a failed index creation:\n%s", s.stderr.String())
		}
	})
}

func TestSQLiteIndexesExistingDataAtStart(t *testing.T) {
	dir := t.TempDir()
	s := startDevdb(t, nil, "-dir", dir)
	c := connect(t, s.uri)
	coll := c.Database("old").Collection("messages")
	crud(t, coll)
	_ = c.Disconnect(context.Background())
	s.stop(t)

	// Data written by a devdb without the index (or an older FerretDB setup).
	file := filepath.Join(dir, "old.sqlite")
	table := sqliteTable(t, file, "messages")
	raw, err := sql.Open("sqlite", "file:"+file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(fmt.Sprintf("DROP INDEX %q", sqliteIDIndexName(table))); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if plan := sqlitePlans(t, file, table)["find"]; strings.Contains(plan, "USING INDEX") {
		t.Fatalf("index still there after DROP INDEX: %s", plan)
	}

	s2 := startDevdb(t, nil, "-dir", dir)
	c2 := connect(t, s2.uri)
	coll2 := c2.Database("old").Collection("messages")
	wantIndexedPlan(t, coll2)
	var got bson.M
	if err := coll2.FindOne(ctxT(t), bson.D{{Key: "_id", Value: "b"}}).Decode(&got); err != nil || got["n"] != int32(20) {
		t.Fatalf("data after restart: %v %v", got, err)
	}
}

func TestParseCreateTable(t *testing.T) {
	cases := map[string]string{
		`CREATE TABLE "messages_e80c2f78" (_ferretdb_sjson TEXT NOT NULL CHECK(_ferretdb_sjson != '')) STRICT`: "messages_e80c2f78",
		`CREATE TABLE "_ferretdb_collections" (name TEXT)`:                                                     "_ferretdb_collections",
		`CREATE TABLE "we\"ird_00000001" (x)`:                                                                  `we"ird_00000001`,
		`CREATE INDEX "a" ON "b" (c)`:                                                                          "",
		`CREATE TABLE unquoted (x)`:                                                                            "",
		`CREATE TABLE "unterminated`:                                                                           "",
	}
	for in, want := range cases {
		if got := parseCreateTable(in); got != want {
			t.Errorf("parseCreateTable(%q) = %q, want %q", in, got, want)
		}
	}
}

// An acknowledged write is committed: it survives devdb being killed (SIGKILL,
// no shutdown) right after the acknowledgements, with the default synchronous=NORMAL.
func TestSQLiteAckedWritesSurviveKill(t *testing.T) {
	dir := t.TempDir()
	s := startDevdb(t, nil, "-dir", dir)
	c := connect(t, s.uri)
	ctx := ctxT(t)
	coll := c.Database("crash").Collection("messages")
	const sequential, concurrent = 200, 200
	for i := 0; i < sequential; i++ {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("s%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, concurrent)
	for i := 0; i < concurrent; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("s%d", i%sequential)}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: i}}}}); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.done

	s2 := startDevdb(t, nil, "-dir", dir)
	coll2 := connect(t, s2.uri).Database("crash").Collection("messages")
	n, err := coll2.CountDocuments(ctx, bson.D{})
	if err != nil || n != sequential {
		t.Fatalf("after SIGKILL: %d of %d acknowledged inserts (%v)", n, sequential, err)
	}
	updated, err := coll2.CountDocuments(ctx, bson.D{{Key: "v", Value: bson.D{{Key: "$exists", Value: true}}}})
	if err != nil || updated != sequential {
		t.Fatalf("after SIGKILL: %d of %d documents carry their acknowledged update (%v)", updated, sequential, err)
	}
}
