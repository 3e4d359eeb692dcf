package storage_test

import (
	"slices"
	"testing"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/storage"
)

// TestStore_DeleteUserLeavesAudiences: deleting an account removes it
// from every job's stored audience and keeps the other users' (user,
// alert) pairs parallel and in order, so a later expiry tells only them.
func TestStore_DeleteUserLeavesAudiences(t *testing.T) {
	db := pgtest.New(t)
	st := storage.New(db)
	ctx := t.Context()
	ann, err := st.CreateUser(ctx, "ann@example.com", "x", false)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := st.CreateUser(ctx, "bob@example.com", "x", false)
	if err != nil {
		t.Fatal(err)
	}
	var src int64
	if err := db.QueryRow(ctx, `INSERT INTO sources (name, kind) VALUES ('s', 'manual') RETURNING id`).Scan(&src); err != nil {
		t.Fatal(err)
	}
	var jobs [2]int64
	for i, u := range []string{"https://example.com/a", "https://example.com/b"} {
		if err := db.QueryRow(ctx, `INSERT INTO jobs (source_id, dedupe_key, url, title, content_hash) VALUES ($1, $2, $2, 't', 'h') RETURNING id`,
			src, u).Scan(&jobs[i]); err != nil {
			t.Fatal(err)
		}
	}
	err = st.PutJobAudiences(ctx, []storage.Audience{
		{JobID: jobs[0], Users: []int64{ann.ID, ann.ID, bob.ID}, AlertIDs: []int64{11, 12, 21}, Feeds: []string{"go"}},
		{JobID: jobs[1], Users: []int64{ann.ID}, AlertIDs: []int64{13}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteUser(ctx, ann.ID); err != nil {
		t.Fatal(err)
	}
	got, err := st.JobAudiences(ctx, jobs[:])
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b storage.Audience) int { return int(a.JobID - b.JobID) })
	if len(got) != 2 ||
		!slices.Equal(got[0].Users, []int64{bob.ID}) || !slices.Equal(got[0].AlertIDs, []int64{21}) || !slices.Equal(got[0].Feeds, []string{"go"}) ||
		len(got[1].Users) != 0 || len(got[1].AlertIDs) != 0 {
		t.Fatalf("audiences after deleting ann = %+v", got)
	}
}
