package app

import (
	"context"
	"net/http"

	"github.com/birjob/birjob/model"
)

// worker is a background loop of this node.
type worker struct {
	name string
	run  func(ctx context.Context) error
}

// parts are the pipeline stages this node runs, by role.
type parts struct {
	workers         []worker
	routes          func(mux *http.ServeMux)
	validate        func(model.Criteria) error
	shutdownStreams func(ctx context.Context)
}

func buildParts(ctx context.Context, a *App) (*parts, error) {
	p := &parts{routes: func(*http.ServeMux) {}}
	return p, nil
}
