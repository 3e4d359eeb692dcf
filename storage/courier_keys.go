package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The courier's secrets: courier_keys, one row, written once by whichever
// node needs it first.

// CourierKeys are the secrets every node of the cluster must share: the
// VAPID key pair that signs Web Push requests (base64url, uncompressed P-256
// public point and raw private scalar) and the HMAC key of the unsubscribe
// links.
type CourierKeys struct {
	VAPIDPublic    string
	VAPIDPrivate   string
	UnsubscribeKey []byte
}

// EnsureCourierKeys stores gen unless keys are stored already, and returns
// the stored keys: of several nodes starting at once, the first insert wins
// and every node gets that one.
func (s *Store) EnsureCourierKeys(ctx context.Context, gen CourierKeys) (CourierKeys, error) {
	var k CourierKeys
	var err error
	// A second try covers a node that lost the race to insert: its
	// statement's snapshot predates the winner's row.
	for range 2 {
		if err = s.ensureCourierKeys(ctx, gen, &k); !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	if err != nil {
		return k, fmt.Errorf("courier keys: %w", err)
	}
	return k, nil
}

func (s *Store) ensureCourierKeys(ctx context.Context, gen CourierKeys, k *CourierKeys) error {
	return s.db.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO courier_keys (vapid_public, vapid_private, unsubscribe_key) VALUES ($1, $2, $3)
			ON CONFLICT (singleton) DO NOTHING
			RETURNING vapid_public, vapid_private, unsubscribe_key
		)
		SELECT * FROM ins
		UNION ALL
		SELECT vapid_public, vapid_private, unsubscribe_key FROM courier_keys
		LIMIT 1`, gen.VAPIDPublic, gen.VAPIDPrivate, gen.UnsubscribeKey).
		Scan(&k.VAPIDPublic, &k.VAPIDPrivate, &k.UnsubscribeKey)
}
