package runs

import "github.com/skillflaw/skillflaw-go/httpapi"

// RegisterResponses serves the OpenAI Responses API (#146) of svc on s.
func RegisterResponses(s *httpapi.Server, svc *Service) {}
