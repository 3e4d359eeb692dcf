package storage_test

import (
	"testing"

	"github.com/birjob/birjob/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
