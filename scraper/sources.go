package scraper

import (
	"context"
	"errors"
	"strings"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// ManualSourceName is the name of the source POST /api/jobs ingests into.
const ManualSourceName = "manual"

// DefaultSchedule is given to a source created without one.
const DefaultSchedule = "@every 15m"

// trimSource trims the fields of s an admin types.
func trimSource(s model.Source) model.Source {
	s.Name = strings.TrimSpace(s.Name)
	s.URL = strings.TrimSpace(s.URL)
	s.Schedule = strings.TrimSpace(s.Schedule)
	return s
}

// CreateSource validates and stores a new source: a *ValidationError when
// it is not valid, storage.ErrConflict when its name is taken.
func (s *Service) CreateSource(ctx context.Context, src model.Source) (model.Source, error) {
	if err := ValidateSource(src); err != nil {
		return src, err
	}
	out, err := s.store.CreateSource(ctx, trimSource(src))
	if err != nil {
		return src, err
	}
	s.log.Info("source created", "source_id", out.ID, "name", out.Name, "kind", out.Kind)
	return out, nil
}

// UpdateSource validates and replaces the editable fields of source src.ID:
// a *ValidationError when it is not valid, storage.ErrNotFound when there is
// no such source (or it is the manual one), storage.ErrConflict when the new
// name is taken. Changing the URL or selectors forgets the stored
// ETag/Last-Modified, so the next run fetches in full. Disabling a source
// ends its listings in the same transaction: its jobs that no other source
// lists expire (job-expired to everyone told). Re-enabling it, or giving it
// another URL, makes its next run a backlog run (migration 008's trigger).
func (s *Service) UpdateSource(ctx context.Context, src model.Source) (model.Source, error) {
	if err := ValidateSource(src); err != nil {
		return src, err
	}
	var out model.Source
	expired := 0
	err := s.store.Tx(ctx, func(tx *storage.Store) error {
		old, err := tx.GetSource(ctx, src.ID)
		if err != nil {
			return err
		}
		if out, err = tx.UpdateSource(ctx, trimSource(src)); err != nil {
			return err
		}
		if old.Enabled && !out.Enabled {
			expired, err = endSource(ctx, tx, src.ID)
		}
		return err
	})
	if err != nil {
		return src, err
	}
	s.log.Info("source updated", "source_id", out.ID, "enabled", out.Enabled, "expired", expired)
	return out, nil
}

// endSource ends every live listing of a source that is being disabled or
// deleted, and expires the jobs no other source lists ('source').
func endSource(ctx context.Context, tx *storage.Store, id int64) (int, error) {
	ids, err := tx.EndSourceListings(ctx, id, "source")
	if err != nil {
		return 0, err
	}
	return tx.ExpireUnlistedJobs(ctx, ids, "source")
}

// DeleteSource removes a source with its runs, or returns
// storage.ErrNotFound. Its jobs that no other source lists expire
// (job-expired to everyone told) and stay, expired, with the source's name;
// the jobs other sources list too stay live, under the next source that
// listed them.
func (s *Service) DeleteSource(ctx context.Context, id int64) error {
	expired := 0
	err := s.store.Tx(ctx, func(tx *storage.Store) error {
		var err error
		if expired, err = endSource(ctx, tx, id); err != nil {
			return err
		}
		if err := tx.HandOverJobs(ctx, id); err != nil {
			return err
		}
		return tx.DeleteSource(ctx, id)
	})
	if err != nil {
		return err
	}
	s.log.Info("source deleted", "source_id", id, "expired", expired)
	return nil
}

// DisableSourceByName disables the enabled source of that name as
// UpdateSource would (its jobs no other source lists expire), and reports
// whether there was one. The app uses it for the demo source when demo
// mode is off.
func (s *Service) DisableSourceByName(ctx context.Context, name string) (bool, error) {
	var disabled bool
	err := s.store.Tx(ctx, func(tx *storage.Store) error {
		var err error
		id, err := tx.SourceIDByName(ctx, name)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if disabled, err = tx.DisableSourceByName(ctx, name); err != nil || !disabled {
			return err
		}
		_, err = endSource(ctx, tx, id)
		return err
	})
	return disabled, err
}

// EnsureSource returns the source named src.Name, creating it from src
// (validated, unless it is a manual source) when no source of that name
// exists. The app uses it in demo mode.
func (s *Service) EnsureSource(ctx context.Context, src model.Source) (model.Source, error) {
	if src.Kind != model.SourceManual {
		if err := ValidateSource(src); err != nil {
			return src, err
		}
	}
	src.Name = strings.TrimSpace(src.Name)
	return s.store.EnsureSource(ctx, src)
}

// ManualSource returns the id of the manual source, the one POST /api/jobs
// ingests into, creating it on demand.
func (s *Service) ManualSource(ctx context.Context) (int64, error) {
	id, err := s.store.ManualSourceID(ctx)
	if err == nil || !errors.Is(err, storage.ErrNotFound) {
		return id, err
	}
	src, err := s.EnsureSource(ctx, model.Source{Name: ManualSourceName, Kind: model.SourceManual, Enabled: false})
	if err != nil {
		return 0, err
	}
	if src.Kind != model.SourceManual {
		// An admin took the name for a scraped source; use another one.
		src, err = s.EnsureSource(ctx, model.Source{Name: ManualSourceName + " (api)", Kind: model.SourceManual})
		if err != nil {
			return 0, err
		}
	}
	return src.ID, nil
}
