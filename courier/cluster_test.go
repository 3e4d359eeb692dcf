package courier

import (
	"testing"

	"github.com/birjob/birjob/internal/pushtest"
)

// Two nodes run the courier: one sends, the other waits; when the first
// stops, the second takes over from the cursors, and nothing goes out twice.
func TestCluster_OneCourierAtATime(t *testing.T) {
	f := newFixture(t)
	ps := pushtest.New(t)
	sub := ps.Subscribe(t)
	ann := f.user("ann@example.com")
	a := f.alert(ann, "Go", "off", false)
	f.subscribe(ann, sub.Endpoint, sub.P256dh, sub.Auth)
	one, two := f.start(testConfig(), nil), f.start(testConfig(), nil)

	f.match(ann, job(1, "Go developer 1", a))
	if p := payloadOf(t, recv(t, ps.Messages, wait, "push")); p.Job != 1 {
		t.Fatalf("pushed %+v", p)
	}
	if one.Leader() == two.Leader() {
		t.Fatalf("leaders: %v and %v, want exactly one", one.Leader(), two.Leader())
	}
	leader, other := one, two
	if two.Leader() {
		leader, other = two, one
	}
	f.idle(leader, wait)
	leader.stop()
	f.match(ann, job(2, "Go developer 2", a))
	if p := payloadOf(t, recv(t, ps.Messages, wait, "push after the takeover")); p.Job != 2 || p.Count != 1 {
		t.Fatalf("pushed %+v, want job 2 alone", p)
	}
	if !other.Leader() {
		t.Error("the remaining node is not the courier")
	}
	f.idle(other, wait)
	if n := len(ps.Messages); n != 0 {
		t.Errorf("%d pushes more than one per match", n)
	}
}
