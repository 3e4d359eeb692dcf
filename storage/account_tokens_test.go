package storage_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/storage"
)

// TestStore_AccountTokenSpentOnce: of many concurrent uses of one mailed
// token exactly one spends it; the others see it used. An expired token
// is not spent; an unknown one is ErrNotFound; a token of one purpose
// does nothing for the other.
func TestStore_AccountTokenSpentOnce(t *testing.T) {
	st := storage.New(pgtest.New(t))
	ctx := t.Context()
	u, err := st.CreateUser(ctx, "ann@example.com", "x", false)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.CreateAccountToken(ctx, u.ID, storage.PurposeReset, u.Email, "tok-1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SpendAccountToken(ctx, storage.PurposeVerify, "tok-1", now); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a reset token used to verify: %v, want ErrNotFound", err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		spent int
		used  int
	)
	for range 8 {
		wg.Go(func() {
			tok, err := st.SpendAccountToken(ctx, storage.PurposeReset, "tok-1", now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Error(err)
			case tok.Spent:
				spent++
			case tok.UsedAt != nil:
				used++
			}
		})
	}
	wg.Wait()
	if spent != 1 || used != 7 {
		t.Fatalf("8 concurrent uses: %d spent, %d saw it used; want 1 and 7", spent, used)
	}

	if err := st.CreateAccountToken(ctx, u.ID, storage.PurposeVerify, u.Email, "tok-2", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	tok, err := st.SpendAccountToken(ctx, storage.PurposeVerify, "tok-2", now.Add(2*time.Minute))
	if err != nil || tok.Spent || tok.UsedAt != nil {
		t.Fatalf("expired token: %+v %v, want it neither spent nor used", tok, err)
	}
	if _, err := st.SpendAccountToken(ctx, storage.PurposeVerify, "nope", now); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	n, newest, _, err := st.RecentAccountTokens(ctx, u.ID, storage.PurposeReset, time.Hour)
	if err != nil || n != 1 || newest > time.Minute {
		t.Fatalf("recent reset tokens: %d, newest %s ago (%v)", n, newest, err)
	}
}

// TestStore_TouchTokenAtMostEvery: a token's last use is written once per
// interval, not on every request.
func TestStore_TouchTokenAtMostEvery(t *testing.T) {
	st := storage.New(pgtest.New(t))
	ctx := t.Context()
	u, err := st.CreateUser(ctx, "ann@example.com", "x", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateToken(ctx, u.ID, "bjt_x", storage.TokenAPI, "cron", nil); err != nil {
		t.Fatal(err)
	}
	last := func() *time.Time {
		_, s, err := st.SessionByToken(ctx, "bjt_x")
		if err != nil {
			t.Fatal(err)
		}
		return s.LastUsedAt
	}
	if last() != nil {
		t.Fatal("a new token has a last use")
	}
	h := storage.HashToken("bjt_x")
	if err := st.TouchToken(ctx, h, time.Minute); err != nil {
		t.Fatal(err)
	}
	first := last()
	if first == nil {
		t.Fatal("touch wrote no last use")
	}
	if err := st.TouchToken(ctx, h, time.Minute); err != nil {
		t.Fatal(err)
	}
	if second := last(); !second.Equal(*first) {
		t.Fatalf("a second touch within the minute wrote again: %v then %v", first, second)
	}
	if err := st.TouchToken(ctx, h, 0); err != nil {
		t.Fatal(err)
	}
	if third := last(); !third.After(*first) {
		t.Fatalf("a touch after the interval did not write: %v then %v", first, third)
	}
}
