package runs

import "github.com/skillflaw/skillflaw-go/httpapi"

// RegisterWebhook serves the webhook (#54) of svc on s.
func RegisterWebhook(s *httpapi.Server, svc *Service, authEnable bool) {}
