package supervision

// registerRegisterRoutes adds the supplier register's API, its public page and exports. The
// public page is rendered by the web UI; without registerUI only its JSON and files answer.
func (s *Server) registerRegisterRoutes(d RegisterDeps) {
	s.register = &d
	s.api.Register = &d // the enterprise page's register history calls the same operations
	s.mux.Handle("POST /api/v1/register/editions", s.authed(s.api.CreateEdition))
	s.mux.Handle("GET /api/v1/register/editions", s.authed(s.api.ListEditions))
	s.mux.Handle("GET /api/v1/register/editions/{id}", s.authed(s.api.GetEdition))
	s.mux.Handle("GET /api/v1/register/editions/{id}/inputs", s.authed(s.api.GetEditionInputs))
	s.mux.Handle("GET /api/v1/register/suppliers/{uscc}", s.authed(s.api.GetSupplierHistory))
	s.mux.HandleFunc("GET /public/register", s.showPublicRegister)
	s.mux.HandleFunc("GET /public/register/suppliers/{uscc}", s.showPublicRegisterSupplier)
	s.mux.HandleFunc("GET /public/register.json", s.api.PublicRegisterJSON)
	s.mux.HandleFunc("GET /public/register.csv", s.api.PublicRegisterFile("csv"))
	s.mux.HandleFunc("GET /public/register.xlsx", s.api.PublicRegisterFile("xlsx"))
}
