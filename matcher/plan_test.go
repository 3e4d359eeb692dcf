package matcher

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// The fan-out plan is decided without a database: these tests give it its
// inputs and read its events and audiences.

// planEvents renders a plan's events as "channel type job-id [alerts]",
// decoding each event's data as the COPY would write it.
func planEvents(t *testing.T, p *batchPlan) []string {
	t.Helper()
	var out []string
	var buf []byte
	for i := range p.channels {
		var data []byte
		data, buf = p.eventData(i, buf)
		var je model.JobEvent
		if err := json.Unmarshal(data, &je); err != nil {
			t.Fatalf("event %d data %s: %v", i, data, err)
		}
		s := fmt.Sprintf("%s %s %d", p.channels[i], p.types[i], je.ID)
		if je.Alerts != nil {
			s += fmt.Sprint(" ", je.Alerts)
		}
		out = append(out, s)
	}
	return out
}

func TestPlanBatch(t *testing.T) {
	jobs := map[int64]*model.Job{
		7: {ID: 7, Title: "Go developer", Description: "long text", ExternalID: "x7"},
		8: {ID: 8, Title: "Rust developer"},
	}
	change := func(id, job int64, kind string) storage.JobChange {
		return storage.JobChange{ID: id, JobID: job, Kind: kind}
	}
	const n, x, l = storage.JobChangeNew, storage.JobChangeExpired, storage.JobChangeListed
	ann := storage.Audience{JobID: 7, Users: []int64{1, 1, 2}, AlertIDs: []int64{10, 11, 20}, Feeds: []string{"baku-jobs"}}
	tests := []struct {
		name          string
		in            batchInput
		wantEvents    []string
		wantAudiences []storage.Audience
	}{{
		name:          "new job matching nobody is told to jobs only, and its empty audience recorded",
		in:            batchInput{changes: []storage.JobChange{change(1, 8, n)}, jobs: jobs},
		wantEvents:    []string{"jobs new-job 8"},
		wantAudiences: []storage.Audience{{JobID: 8}},
	}, {
		name: "new job: jobs, each user once with its alerts, then the feeds",
		in: batchInput{changes: []storage.JobChange{change(1, 7, n)}, jobs: jobs,
			matched: map[int64]storage.Audience{7: ann}},
		wantEvents:    []string{"jobs new-job 7", "user:1 new-job 7 [10 11]", "user:2 new-job 7 [20]", "baku-jobs new-job 7"},
		wantAudiences: []storage.Audience{ann},
	}, {
		name:       "expired job: jobs, then everyone told, in the order of the announcement",
		in:         batchInput{changes: []storage.JobChange{change(1, 7, x)}, jobs: jobs, stored: []storage.Audience{ann}},
		wantEvents: []string{"jobs job-expired 7", "user:1 job-expired 7 [10 11]", "user:2 job-expired 7 [20]", "baku-jobs job-expired 7"},
	}, {
		name:       "expired job told nobody (or announced before audiences were kept): jobs only",
		in:         batchInput{changes: []storage.JobChange{change(1, 8, x)}, jobs: jobs, stored: []storage.Audience{ann}},
		wantEvents: []string{"jobs job-expired 8"},
	}, {
		name: "new then expired in one batch: the expiry reaches the batch's own announcement",
		in: batchInput{changes: []storage.JobChange{change(1, 7, n), change(2, 7, x)}, jobs: jobs,
			matched: map[int64]storage.Audience{7: {Users: []int64{3}, AlertIDs: []int64{30}}}},
		wantEvents:    []string{"jobs new-job 7", "user:3 new-job 7 [30]", "jobs job-expired 7", "user:3 job-expired 7 [30]"},
		wantAudiences: []storage.Audience{{JobID: 7, Users: []int64{3}, AlertIDs: []int64{30}}},
	}, {
		name:       "a second expiry in the batch tells only jobs",
		in:         batchInput{changes: []storage.JobChange{change(1, 7, x), change(2, 7, x)}, jobs: jobs, stored: []storage.Audience{ann}},
		wantEvents: []string{"jobs job-expired 7", "user:1 job-expired 7 [10 11]", "user:2 job-expired 7 [20]", "baku-jobs job-expired 7", "jobs job-expired 7"},
	}, {
		name:          "a job deleted since its change writes nothing",
		in:            batchInput{changes: []storage.JobChange{change(1, 99, n), change(2, 99, x), change(3, 8, n)}, jobs: jobs},
		wantEvents:    []string{"jobs new-job 8"},
		wantAudiences: []storage.Audience{{JobID: 8}},
	}, {
		name: "backlog job (listed, not news): jobs only, whoever matches, with an empty audience",
		in: batchInput{changes: []storage.JobChange{{ID: 1, JobID: 7, Kind: n, Backlog: true}}, jobs: jobs,
			matched: map[int64]storage.Audience{7: ann}},
		wantEvents:    []string{"jobs new-job 7"},
		wantAudiences: []storage.Audience{{JobID: 7}},
	}, {
		name: "backlog job expiring in the same batch tells jobs only",
		in: batchInput{changes: []storage.JobChange{{ID: 1, JobID: 7, Kind: n, Backlog: true}, change(2, 7, x)}, jobs: jobs,
			matched: map[int64]storage.Audience{7: ann}},
		wantEvents:    []string{"jobs new-job 7", "jobs job-expired 7"},
		wantAudiences: []storage.Audience{{JobID: 7}},
	}, {
		name: "backlog and news side by side: only the news reaches its users and feeds",
		in: batchInput{changes: []storage.JobChange{{ID: 1, JobID: 8, Kind: n, Backlog: true}, change(2, 7, n)}, jobs: jobs,
			matched: map[int64]storage.Audience{7: ann, 8: {JobID: 8, Users: []int64{5}, AlertIDs: []int64{50}, Feeds: []string{"remote"}}}},
		wantEvents:    []string{"jobs new-job 8", "jobs new-job 7", "user:1 new-job 7 [10 11]", "user:2 new-job 7 [20]", "baku-jobs new-job 7"},
		wantAudiences: []storage.Audience{{JobID: 8}, ann},
	}, {
		name: "listed job: only the matching users and feeds not told yet, nothing on jobs; the audience grows",
		in: batchInput{changes: []storage.JobChange{change(1, 7, l)}, jobs: jobs, stored: []storage.Audience{ann},
			matched: map[int64]storage.Audience{7: {JobID: 7, Users: []int64{0, 1, 2, 4}, AlertIDs: []int64{5, 12, 20, 40},
				Feeds: []string{"a-feed", "baku-jobs"}}}},
		wantEvents: []string{"user:0 new-job 7 [5]", "user:4 new-job 7 [40]", "a-feed new-job 7"},
		wantAudiences: []storage.Audience{{JobID: 7, Users: []int64{0, 1, 1, 2, 4}, AlertIDs: []int64{5, 10, 11, 20, 40},
			Feeds: []string{"a-feed", "baku-jobs"}}},
	}, {
		name: "listed job whose matches were all told: no event, the audience kept",
		in: batchInput{changes: []storage.JobChange{change(1, 7, l)}, jobs: jobs, stored: []storage.Audience{ann},
			matched: map[int64]storage.Audience{7: ann}},
		wantAudiences: []storage.Audience{ann},
	}, {
		name: "listed job without a stored audience: everyone matching is told",
		in: batchInput{changes: []storage.JobChange{change(1, 8, l)}, jobs: jobs,
			matched: map[int64]storage.Audience{8: {JobID: 8, Users: []int64{5}, AlertIDs: []int64{50}}}},
		wantEvents:    []string{"user:5 new-job 8 [50]"},
		wantAudiences: []storage.Audience{{JobID: 8, Users: []int64{5}, AlertIDs: []int64{50}}},
	}, {
		name: "new, listed, expired in one batch: the listing tells no one twice, the expiry reaches all",
		in: batchInput{changes: []storage.JobChange{change(1, 7, n), change(2, 7, l), change(3, 7, x)}, jobs: jobs,
			matched: map[int64]storage.Audience{7: {JobID: 7, Users: []int64{3}, AlertIDs: []int64{30}}}},
		wantEvents:    []string{"jobs new-job 7", "user:3 new-job 7 [30]", "jobs job-expired 7", "user:3 job-expired 7 [30]"},
		wantAudiences: []storage.Audience{{JobID: 7, Users: []int64{3}, AlertIDs: []int64{30}}, {JobID: 7, Users: []int64{3}, AlertIDs: []int64{30}}},
	}, {
		name: "backlog new then listed: the listing tells the matching users, and the expiry them",
		in: batchInput{changes: []storage.JobChange{{ID: 1, JobID: 7, Kind: n, Backlog: true}, change(2, 7, l), change(3, 7, x)}, jobs: jobs,
			matched: map[int64]storage.Audience{7: {JobID: 7, Users: []int64{3}, AlertIDs: []int64{30}}}},
		wantEvents:    []string{"jobs new-job 7", "user:3 new-job 7 [30]", "jobs job-expired 7", "user:3 job-expired 7 [30]"},
		wantAudiences: []storage.Audience{{JobID: 7}, {JobID: 7, Users: []int64{3}, AlertIDs: []int64{30}}},
	}, {
		name: "changes are planned in outbox order",
		in: batchInput{changes: []storage.JobChange{change(1, 8, n), change(2, 7, x)}, jobs: jobs,
			stored: []storage.Audience{{JobID: 7, Feeds: []string{"remote"}}}},
		wantEvents:    []string{"jobs new-job 8", "jobs job-expired 7", "remote job-expired 7"},
		wantAudiences: []storage.Audience{{JobID: 8}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := planBatch(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := planEvents(t, &p); !slices.Equal(got, tt.wantEvents) {
				t.Errorf("events:\n%q\nwant\n%q", got, tt.wantEvents)
			}
			if !slices.EqualFunc(p.audiences, tt.wantAudiences, equalAudience) {
				t.Errorf("audiences = %+v, want %+v", p.audiences, tt.wantAudiences)
			}
		})
	}
}

func equalAudience(a, b storage.Audience) bool {
	return a.JobID == b.JobID && slices.Equal(a.Users, b.Users) && slices.Equal(a.AlertIDs, b.AlertIDs) && slices.Equal(a.Feeds, b.Feeds)
}

// TestPlanBatch_EventData: events carry the job without its description
// and internal id; a user's event adds its alerts, a feed's does not.
func TestPlanBatch_EventData(t *testing.T) {
	j := &model.Job{ID: 7, Title: "Go developer", Source: "boss.az", Description: "long text", ExternalID: "x7"}
	p, err := planBatch(batchInput{
		changes: []storage.JobChange{{ID: 1, JobID: 7, Kind: storage.JobChangeNew}},
		jobs:    map[int64]*model.Job{7: j},
		matched: map[int64]storage.Audience{7: {Users: []int64{1}, AlertIDs: []int64{10}, Feeds: []string{"f"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for i, want := range []struct {
		alerts bool
	}{{false}, {true}, {false}} {
		var data []byte
		data, buf = p.eventData(i, buf)
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("event %d: %s: %v", i, data, err)
		}
		if _, ok := m["alerts"]; ok != want.alerts {
			t.Errorf("event %d (%s): has alerts = %v, want %v: %s", i, p.channels[i], ok, want.alerts, data)
		}
		if m["title"] != "Go developer" || m["source"] != "boss.az" || m["id"] != float64(7) {
			t.Errorf("event %d data = %s", i, data)
		}
		if _, ok := m["description"]; ok {
			t.Errorf("event %d carries the description: %s", i, data)
		}
		if s, _ := m["externalId"].(string); s != "" {
			t.Errorf("event %d carries the external id: %s", i, data)
		}
	}
}

func TestNewAudience(t *testing.T) {
	tests := []struct {
		name  string
		hits  []Hit
		feeds []string
		want  storage.Audience
	}{
		{"nothing matched", nil, nil, storage.Audience{JobID: 7, Users: []int64{}, AlertIDs: []int64{}}},
		{
			"users ordered by user then alert, feeds sorted without repeats",
			[]Hit{{30, Owner{3}}, {11, Owner{1}}, {20, Owner{2}}, {10, Owner{1}}},
			[]string{"remote", "baku", "remote"},
			storage.Audience{JobID: 7, Users: []int64{1, 1, 2, 3}, AlertIDs: []int64{10, 11, 20, 30}, Feeds: []string{"baku", "remote"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := slices.Clone(tt.hits)
			got := newAudience(7, hits, tt.feeds)
			if !equalAudience(got, tt.want) {
				t.Fatalf("newAudience = %+v, want %+v", got, tt.want)
			}
			// The worker reuses its hit buffer for the next job.
			clear(hits)
			if !equalAudience(got, tt.want) {
				t.Fatalf("audience shares the hit buffer: %+v", got)
			}
		})
	}
}

func TestDeliveries(t *testing.T) {
	a := storage.Audience{Users: []int64{1, 1, 2}, AlertIDs: []int64{10, 11, 20}, Feeds: []string{"baku"}}
	got := deliveries(&a)
	want := []delivery{{"user:1", []int64{10, 11}}, {"user:2", []int64{20}}, {"baku", nil}}
	if !slices.EqualFunc(got, want, func(x, y delivery) bool {
		return x.channel == y.channel && slices.Equal(x.alerts, y.alerts) && (x.alerts == nil) == (y.alerts == nil)
	}) {
		t.Fatalf("deliveries = %v, want %v", got, want)
	}
	// A user's alerts must not grow into the next user's.
	if c := cap(got[0].alerts); c != 2 {
		t.Fatalf("cap of user:1's alerts = %d, want 2", c)
	}
}

// BenchmarkPlanBatch_Listed100k plans a 'listed' change of a job told to
// 100,000 users that 100,000 (half of them new) match now: the untold part
// is found through a set, not by searching the audience for each user.
func BenchmarkPlanBatch_Listed100k(b *testing.B) {
	const users = 100_000
	stored := storage.Audience{JobID: 7}
	matched := storage.Audience{JobID: 7}
	for u := range int64(users) {
		stored.Users, stored.AlertIDs = append(stored.Users, 2*u), append(stored.AlertIDs, 2*u)
		matched.Users, matched.AlertIDs = append(matched.Users, u), append(matched.AlertIDs, u)
	}
	in := batchInput{
		changes: []storage.JobChange{{ID: 1, JobID: 7, Kind: storage.JobChangeListed}},
		jobs:    map[int64]*model.Job{7: {ID: 7, Title: "Go developer"}},
		matched: map[int64]storage.Audience{7: matched},
		stored:  []storage.Audience{stored},
	}
	for b.Loop() {
		p, err := planBatch(in)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.audiences) != 1 || len(p.audiences[0].Users) != users+users/2 {
			b.Fatalf("audience of %d users, want %d", len(p.audiences[0].Users), users+users/2)
		}
	}
}
