// Package httpx holds the small JSON helpers every HTTP handler of birjob
// shares: one error shape ({"error": "..."}), bounded body decoding, the
// {id} of a path and the merge of a PUT body over a stored value.
package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
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

// ServerError logs err and answers 500 without leaking its text; when err
// says the database cannot be reached (Unavailable), it answers 503 with
// Retry-After instead, since the same request will work once it is back.
func ServerError(w http.ResponseWriter, r *http.Request, err error) {
	if Unavailable(err) {
		slog.Warn("request failed: database unreachable", "method", r.Method, "path", r.URL.Path, "err", err)
		ServiceUnavailable(w, "the database is unreachable right now; try again in a few seconds")
		return
	}
	slog.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	Error(w, http.StatusInternalServerError, "internal error; it has been logged")
}

// RetryAfter is the Retry-After (seconds) of a 503 for an unreachable
// database: a restart or failover takes seconds.
const RetryAfter = 5

// ServiceUnavailable answers 503 with Retry-After and msg.
func ServiceUnavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(RetryAfter))
	Error(w, http.StatusServiceUnavailable, msg)
}

// Unavailable reports whether err means the database could not be reached
// or went away (refused or failed connections, a server shutting down or
// not yet accepting connections, a connection lost mid-query), as opposed
// to a fault of the request or of birjob.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &pe):
		// Class 08: connection exception; 57P01-57P03: admin or crash
		// shutdown, cannot connect now.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "failed to connect")
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

// DecodeObject is DecodeJSON for a body that must be one JSON object whose
// fields v knows: `null`, an array or a field v has no place for (a typo,
// or a wrapper such as {"criteria": {...}}) is refused with a 400 that
// names it, rather than silently read as "nothing said".
func DecodeObject(w http.ResponseWriter, r *http.Request, v any) bool {
	var raw json.RawMessage
	if !DecodeJSON(w, r, &raw) {
		return false
	}
	return unmarshalObject(w, raw, v)
}

// unmarshalObject decodes raw, which must be a JSON object, over v,
// refusing unknown fields; it answers the client and returns false when
// raw is not acceptable.
func unmarshalObject(w http.ResponseWriter, raw json.RawMessage, v any) bool {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		Errorf(w, http.StatusBadRequest, "request body must be a JSON object, not %s", kindOf(t))
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		msg := err.Error()
		switch {
		case errors.As(err, &te):
			Errorf(w, http.StatusBadRequest, "field %q must be a %s", te.Field, te.Type)
		case strings.HasPrefix(msg, "json: unknown field "):
			Errorf(w, http.StatusBadRequest, "unknown field %s; send only the documented fields, at the top level",
				strings.TrimPrefix(msg, "json: unknown field "))
		default:
			Errorf(w, http.StatusBadRequest, "request body is not a valid JSON object: %v", err)
		}
		return false
	}
	return true
}

// kindOf names the kind of JSON value t starts, for messages.
func kindOf(t []byte) string {
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case 'n':
		return "null"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// PathID returns the request's {id} path value, a positive integer. When it
// is not one, PathID answers and returns false: 400 `"x" is not an id`, or,
// when what names the resource, 404 `no <what> with id "x"` (for an API
// that answers a malformed id like an unknown one).
func PathID(w http.ResponseWriter, r *http.Request, what string) (int64, bool) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err == nil && id > 0 {
		return id, true
	}
	if what != "" {
		Errorf(w, http.StatusNotFound, "no %s with id %q", what, v)
	} else {
		Errorf(w, http.StatusBadRequest, "%q is not an id", v)
	}
	return 0, false
}

// MergeJSON decodes the JSON body of r over v, so that the fields the body
// leaves out keep their values (a PUT or PATCH that changes only what it
// carries). json.Unmarshal merges an object into an existing map; a field
// that the body must replace as a whole is reset by reset, which, when not
// nil, is called before decoding with a test of the body's top-level keys.
// MergeJSON answers the client itself (400 or 413) and returns false when
// the body is not acceptable.
func MergeJSON(w http.ResponseWriter, r *http.Request, v any, reset func(has func(key string) bool)) bool {
	var raw json.RawMessage
	if !DecodeJSON(w, r, &raw) {
		return false
	}
	if reset != nil {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw, &keys); err != nil {
			Errorf(w, http.StatusBadRequest, "request body is not a valid JSON object: %v", err)
			return false
		}
		reset(func(key string) bool { _, ok := keys[key]; return ok })
	}
	if err := json.Unmarshal(raw, v); err != nil {
		Errorf(w, http.StatusBadRequest, "request body is not a valid JSON object: %v", err)
		return false
	}
	return true
}
