package supervision

// registerSpotCheckRoutes adds the spot-check, inspector and inspection-result routes.
func (s *Server) registerSpotCheckRoutes(d SpotCheckDeps) {
	s.spotchecks = &d
	s.api.SpotChecks = &d // the web UI's spot-check pages (registerUI) call the same operations
	s.mux.Handle("POST /api/v1/spotchecks", s.authed(s.api.PostSpotCheck))
	s.mux.Handle("GET /api/v1/spotchecks", s.authed(s.api.ListSpotChecks))
	s.mux.Handle("GET /api/v1/spotchecks/{id}", s.authed(s.api.GetSpotCheck))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/inputs", s.authed(s.api.GetSpotCheckInputs))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/verify", s.authed(s.api.GetSpotCheckVerification))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/export.csv", s.authed(s.api.SpotCheckCSV))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/export.xlsx", s.authed(s.api.SpotCheckXLSX))
	s.mux.Handle("POST /api/v1/spotchecks/{id}/results", s.authed(s.api.PostSpotCheckResult))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/results", s.authed(s.api.ListSpotCheckResults))
	s.mux.HandleFunc("GET /api/v1/spotchecks/{id}/public", s.api.PublicSpotCheck)
	s.mux.Handle("POST /api/v1/inspectors", s.authed(s.api.CreateInspector))
	s.mux.Handle("GET /api/v1/inspectors", s.authed(s.api.ListInspectors))
	s.mux.Handle("POST /api/v1/inspectors/{id}/disable", s.authed(s.api.DisableInspector))
}
