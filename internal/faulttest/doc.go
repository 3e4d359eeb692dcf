// Package faulttest holds birjob's fault tests: whole birjob processes
// (the binary built from cmd/birjob) against a PostgreSQL cluster the test
// starts for itself, under faults that a unit test cannot stage.
//
//   - PostgreSQL stopped and started while events are delivered, and while
//     a scrape is in flight;
//   - the LISTEN backends killed (pg_terminate_backend);
//   - one of two nodes killed with SIGKILL under load;
//   - a rolling restart of two nodes under 1,000 clients.
//
// Clients speak SSE, WebSocket and long poll and resume with their last id
// on whatever node answers. Every test ends by comparing what each client
// received with the event log: every event, once, in order.
//
// The tests stop and kill PostgreSQL, so they never use DATABASE_URL's
// server: each starts a throwaway cluster (internal/pgembed). They take a
// few minutes and run only when BIRJOB_FAULT=1 (make test-fault); make
// test compiles them and skips them. The package has no code of its own
// besides this comment.
package faulttest
