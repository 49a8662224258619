package supervision

import (
	"errors"
)

// roundState is what RegisterRoundRoutes prepares.
type roundState struct {
	deps RoundDeps
	// objections counts public objections per client address, on this instance.
	objections signInThrottle
}

// MaxObjectionsPerAddress bounds the public objections from one address within
// SignInLockout, per instance, as the complaint form is bounded.
const MaxObjectionsPerAddress = 10

// registerRoundRoutes adds the annual round's API, its public notice (the page when the web UI
// is registered first) and the public objection route. It refuses a configuration without a
// store or the claims' reader, so that it fails at start.
func (s *Server) registerRoundRoutes(d RoundDeps) error {
	if d.Store == nil || d.Claims == nil {
		return errors.New("supervision: rounds: store and claims are required")
	}
	s.rounds = &roundState{deps: d}
	s.api.Rounds = &s.rounds.deps
	s.rounds.objections.limit = MaxObjectionsPerAddress
	s.mux.Handle("POST /api/v1/rounds", s.authed(s.api.OpenRound))
	s.mux.Handle("GET /api/v1/rounds", s.authed(s.api.ListRounds))
	s.mux.Handle("GET /api/v1/rounds/{id}", s.authed(s.api.GetRound))
	s.mux.Handle("POST /api/v1/rounds/{id}/scores", s.authed(s.api.PostRoundScores))
	s.mux.Handle("POST /api/v1/rounds/{id}/allocate", s.authed(s.api.PostRoundAllocation))
	s.mux.Handle("POST /api/v1/rounds/{id}/freeze", s.authed(s.api.PostRoundFreeze))
	s.mux.Handle("POST /api/v1/rounds/{id}/publish", s.authed(s.api.PostRoundPublish))
	s.mux.Handle("POST /api/v1/rounds/{id}/finalise", s.authed(s.api.PostRoundFinal))
	s.mux.Handle("POST /api/v1/rounds/{id}/comments", s.authed(s.api.PostRoundComment))
	s.mux.Handle("POST /api/v1/rounds/{id}/objections", s.authed(s.api.PostRoundObjection))
	s.mux.Handle("GET /api/v1/rounds/{id}/list.xlsx", s.authed(s.api.RoundListXLSX))
	s.mux.Handle("GET /api/v1/rounds/{id}/payment.xlsx", s.authed(s.api.RoundPaymentXLSX))
	s.mux.HandleFunc("GET /public/rounds/{file}", s.showPublicRound)
	s.mux.HandleFunc("POST /public/rounds/{id}/objections", s.postPublicObjection)
	if s.ui != nil {
		s.registerRoundPages()
	}
	return nil
}
