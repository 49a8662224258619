package supervision

import (
	"context"
	"net/http"
	"time"
)

// HealthCheck says whether the instance can do its work: nil, or an error whose message is a
// short reason naming the failing part ("clickhouse unreachable", "topic vw.usage stalled for
// 6m0s"). It must answer within the context's deadline.
type HealthCheck func(ctx context.Context) error

// registerHealth adds GET /healthz for a supervisor process, a load balancer or a Kubernetes
// probe: 200 "ok" when check passes, 503 "unhealthy: <reason>" when it fails or does not answer
// within 3 seconds. It needs no token and tells nothing of the data, only which part failed.
func (s *Server) registerHealth(check HealthCheck) {
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		err := check(ctx)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("unhealthy: " + err.Error() + "\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
}
