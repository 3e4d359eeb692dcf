package matcher

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// This file holds the matcher's fan-out decisions, apart from any I/O:
// given a batch of job changes, the jobs, who matches each new job now and
// who was told about each expiring one, which events go to which channels
// and which audiences to record. The worker reads the inputs and writes
// the plan (worker.go).

// batchInput is what planning a batch needs.
type batchInput struct {
	changes []storage.JobChange
	// jobs are the changed jobs by id; a job deleted since its change was
	// written is missing, and its change writes nothing.
	jobs map[int64]*model.Job
	// matched is who matches each new job now (see newAudience).
	matched map[int64]storage.Audience
	// stored is who was told about the expiring and listed jobs, as
	// recorded (a job without a row was told no one).
	stored []storage.Audience
}

// batchPlan is what one batch writes: its events, in order (kept as
// columns, for the COPY), and the audiences of the jobs it announced.
//
// An event's data is base, or base with an "alerts" member when alerts is
// not nil; it is encoded while the COPY streams, so that building 100,000
// users' payloads overlaps with the server storing the first ones.
type batchPlan struct {
	channels, types []string
	bases           [][]byte
	alerts          [][]int64
	audiences       []storage.Audience
}

func (p *batchPlan) event(channel, typ string, base []byte, alerts []int64) {
	p.channels = append(p.channels, channel)
	p.types = append(p.types, typ)
	p.bases = append(p.bases, base)
	p.alerts = append(p.alerts, alerts)
}

// eventData returns the data of event i; buf may be reused for it, and is
// returned for the next call.
func (p *batchPlan) eventData(i int, buf []byte) (data, next []byte) {
	if p.alerts[i] == nil {
		return p.bases[i], buf
	}
	buf = appendWithAlerts(buf[:0], p.bases[i], p.alerts[i])
	return buf, buf
}

// planBatch decides a batch's events and audiences:
//
//   - a new job: new-job on "jobs", then on each matching user's channel
//     once (with that user's matching alert ids), then on each matching
//     feed; its audience is recorded;
//   - a new job marked backlog (listed, but not news: see scraper/doc.go):
//     new-job on "jobs" only, and an empty audience recorded, so that its
//     expiry too tells "jobs" only;
//   - a job listed by one more source: new-job on the channel of each
//     matching user (with the user's matching alert ids) and feed that was
//     not told about it (stored, or announced earlier in this batch), and
//     nothing on "jobs", which listed it already; its audience becomes
//     the union, so its expiry tells them too;
//   - an expired job: job-expired on "jobs" and on every channel that was
//     told about it (stored, or announced earlier in this batch), in the
//     order of the announcement; a second expiry in the batch tells only
//     "jobs".
func planBatch(in batchInput) (batchPlan, error) {
	told := make(map[int64]storage.Audience, len(in.stored))
	for _, a := range in.stored {
		told[a.JobID] = a
	}
	var p batchPlan
	for _, c := range in.changes {
		j := in.jobs[c.JobID]
		if j == nil {
			continue // deleted since; its outbox row goes too
		}
		base, err := eventJSON(j)
		if err != nil {
			return batchPlan{}, fmt.Errorf("job %d: encode event: %w", j.ID, err)
		}
		switch c.Kind {
		case storage.JobChangeNew:
			p.event(model.ChannelJobs, model.EventNewJob, base, nil)
			var a storage.Audience
			if !c.Backlog {
				a = in.matched[j.ID]
			}
			a.JobID = j.ID
			for _, d := range deliveries(&a) {
				p.event(d.channel, model.EventNewJob, base, d.alerts)
			}
			told[j.ID] = a
			p.audiences = append(p.audiences, a)
		case storage.JobChangeListed:
			had := told[j.ID]
			had.JobID = j.ID
			matched := in.matched[j.ID]
			more := untold(&had, &matched)
			for _, d := range deliveries(&more) {
				p.event(d.channel, model.EventNewJob, base, d.alerts)
			}
			a := union(&had, &more)
			told[j.ID] = a
			p.audiences = append(p.audiences, a)
		case storage.JobChangeExpired:
			p.event(model.ChannelJobs, model.EventJobExpired, base, nil)
			a := told[j.ID]
			for _, d := range deliveries(&a) {
				p.event(d.channel, model.EventJobExpired, base, d.alerts)
			}
			delete(told, j.ID) // a second expiry in the batch tells only jobs
		}
	}
	return p, nil
}

// newAudience is who a new job goes to, from what matched it: the users
// of hits, ordered by user then alert, and the feeds, sorted and without
// repeats. It sorts hits in place; the audience owns its slices (the
// caller reuses hits for the next job).
func newAudience(jobID int64, hits []Hit, feeds []string) storage.Audience {
	slices.SortFunc(hits, func(x, y Hit) int {
		if c := cmp.Compare(x.Owner.UserID, y.Owner.UserID); c != 0 {
			return c
		}
		return cmp.Compare(x.AlertID, y.AlertID)
	})
	a := storage.Audience{JobID: jobID, Users: make([]int64, len(hits)), AlertIDs: make([]int64, len(hits))}
	for i, h := range hits {
		a.Users[i], a.AlertIDs[i] = h.Owner.UserID, h.AlertID
	}
	slices.Sort(feeds)
	a.Feeds = slices.Compact(feeds)
	return a
}

// untold is the part of matched that a was not told: the users a lacks,
// with their matching alert ids, and the feeds it lacks.
// A popular job is told to 100,000 users: a's users are looked up in a
// set, not searched.
func untold(a, matched *storage.Audience) storage.Audience {
	out := storage.Audience{JobID: a.JobID}
	had := make(map[int64]struct{}, len(a.Users))
	for _, u := range a.Users {
		had[u] = struct{}{}
	}
	for i, u := range matched.Users {
		if _, ok := had[u]; !ok {
			out.Users = append(out.Users, u)
			out.AlertIDs = append(out.AlertIDs, matched.AlertIDs[i])
		}
	}
	for _, f := range matched.Feeds {
		if !slices.Contains(a.Feeds, f) {
			out.Feeds = append(out.Feeds, f)
		}
	}
	return out
}

// union is a with b's users and feeds added, which a lacks (see untold):
// users ordered by user then alert, feeds sorted. It shares no slice with
// a or b.
func union(a, b *storage.Audience) storage.Audience {
	type pair struct{ user, alert int64 }
	pairs := make([]pair, 0, len(a.Users)+len(b.Users))
	for _, x := range []*storage.Audience{a, b} {
		for i, u := range x.Users {
			pairs = append(pairs, pair{u, x.AlertIDs[i]})
		}
	}
	slices.SortFunc(pairs, func(x, y pair) int {
		if c := cmp.Compare(x.user, y.user); c != 0 {
			return c
		}
		return cmp.Compare(x.alert, y.alert)
	})
	out := storage.Audience{JobID: a.JobID, Users: make([]int64, len(pairs)), AlertIDs: make([]int64, len(pairs))}
	for i, p := range pairs {
		out.Users[i], out.AlertIDs[i] = p.user, p.alert
	}
	out.Feeds = append(slices.Clone(a.Feeds), b.Feeds...)
	slices.Sort(out.Feeds)
	return out
}

// delivery is one channel told about a job.
type delivery struct {
	channel string
	alerts  []int64 // the user's matching alert ids; nil for a feed
}

// deliveries lists a's channels, each user's with its alert ids (sharing
// a.AlertIDs), then the feeds.
func deliveries(a *storage.Audience) []delivery {
	var out []delivery
	for i := 0; i < len(a.Users); {
		k := i + 1
		for k < len(a.Users) && a.Users[k] == a.Users[i] {
			k++
		}
		out = append(out, delivery{model.UserChannel(a.Users[i]), a.AlertIDs[i:k:k]})
		i = k
	}
	for _, f := range a.Feeds {
		out = append(out, delivery{f, nil})
	}
	return out
}

// appendWithAlerts appends the job event JSON base (an object) with an
// "alerts" member added.
func appendWithAlerts(out, base []byte, ids []int64) []byte {
	out = append(out, base[:len(base)-1]...)
	out = append(out, `,"alerts":[`...)
	for i, id := range ids {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendInt(out, id, 10)
	}
	return append(out, "]}"...)
}

// eventJSON is the data of a job's events: the job as the spec describes
// it, without the description (clients fetch it with the job) and internal
// fields, so that a job matching many users stays cheap to write.
func eventJSON(j *model.Job) ([]byte, error) {
	e := *j
	e.Description = ""
	e.ExternalID = ""
	return json.Marshal(model.JobEvent{Job: e})
}
