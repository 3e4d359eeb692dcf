// Package httpx holds the small JSON helpers every HTTP handler of birjob
// shares: one error shape ({"error": "..."}) and bounded body decoding.
package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// MaxBody is the largest JSON request body accepted.
const MaxBody = 1 << 20

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write json", "err", err)
	}
}

// Error writes {"error": msg} with the given status. Use 4xx with a message a
// person can act on; 5xx only for faults of the server.
func Error(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}

// Errorf is Error with formatting.
func Errorf(w http.ResponseWriter, status int, format string, args ...any) {
	Error(w, status, fmt.Sprintf(format, args...))
}

// ServerError logs err and answers 500 without leaking its text.
func ServerError(w http.ResponseWriter, r *http.Request, err error) {
	slog.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	Error(w, http.StatusInternalServerError, "internal error; it has been logged")
}

// DecodeJSON reads a JSON object from r's body into v. It answers the client
// itself (400 or 413, with the reason) and returns false when the body is not
// acceptable.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	// The Content-Type is not insisted on (curl -d sends a form type):
	// cross-site forgery is refused by CrossOriginProtection, not by it.
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/") {
		Error(w, http.StatusUnsupportedMediaType, "send the body as application/json")
		return false
	}
	body := http.MaxBytesReader(w, r.Body, MaxBody)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			Errorf(w, http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", MaxBody)
		case errors.Is(err, io.EOF):
			Error(w, http.StatusBadRequest, "request body is empty; send a JSON object")
		case errors.As(err, &se):
			Errorf(w, http.StatusBadRequest, "request body is not valid JSON (at byte %d)", se.Offset)
		case errors.As(err, &te):
			Errorf(w, http.StatusBadRequest, "field %q must be a %s", te.Field, te.Type)
		default:
			Errorf(w, http.StatusBadRequest, "request body is not valid JSON: %v", err)
		}
		return false
	}
	if dec.More() {
		Error(w, http.StatusBadRequest, "request body has data after the JSON object")
		return false
	}
	return true
}
