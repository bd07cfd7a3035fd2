// Package egress is the one policy every network call a flow can aim
// goes through: a node's model endpoint
// today; the URL, API request and MCP components later. A flow's author
// is not the server's operator, so by default a flow cannot make the
// server reach its own machine or network: loopback, private (RFC 1918,
// fc00::/7), carrier-grade NAT, link-local (which holds the cloud metadata
// endpoints, 169.254.169.254 and fd00:ec2::254 among them), unspecified,
// multicast and reserved addresses are refused, unless the operator
// allow-lists them (SKILLFLAW_EGRESS_ALLOW).
//
// The check is made where it cannot be dodged: on the address a
// connection is actually dialled to, after DNS resolution, for every
// connection — a redirect or a second DNS answer (rebinding) dials through
// it again, and no proxy dials on the flow's behalf. Endpoints the
// operator configured (the model providers' base URLs) do not go through
// it.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Policy decides which addresses flows may reach: every public address,
// and the internal ones its allow-list names.
type Policy struct {
	hosts    map[string]bool // allowed host names, lower-cased
	prefixes []netip.Prefix  // allowed networks
	client   sync.Once
	http     *http.Client
}

// New returns the policy allowing, beyond public addresses, the hosts
// (exact names, case-insensitive) and networks (CIDRs, or single
// addresses) of allow; an entry that is none of them is an error.
func New(allow []string) (*Policy, error) {
	p := &Policy{hosts: map[string]bool{}}
	for _, a := range allow {
		a = strings.TrimSpace(a)
		switch {
		case a == "":
		case strings.Contains(a, "/"):
			pr, err := netip.ParsePrefix(a)
			if err != nil {
				return nil, fmt.Errorf("egress allow-list entry %q: %w", a, err)
			}
			p.prefixes = append(p.prefixes, pr.Masked())
		default:
			if addr, err := netip.ParseAddr(a); err == nil {
				p.prefixes = append(p.prefixes, netip.PrefixFrom(addr, addr.BitLen()))
				continue
			}
			if strings.ContainsAny(a, " :/@") {
				return nil, fmt.Errorf("egress allow-list entry %q is not a host name, an address or a CIDR", a)
			}
			p.hosts[strings.ToLower(a)] = true
		}
	}
	return p, nil
}

// ErrRefused is the failure of a call to an address the policy refuses.
var ErrRefused = errors.New("refused by the egress policy")

// internal are the networks flows may not reach unless allow-listed.
var internal = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
		"224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "64:ff9b::/96", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Internal reports whether addr is an address flows may not reach by
// default.
func Internal(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range internal {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// allowed reports whether a connection to addr, dialled for host, passes.
func (p *Policy) allowed(host string, addr netip.Addr) bool {
	if !Internal(addr) {
		return true
	}
	if p == nil {
		return false
	}
	if p.hosts[strings.ToLower(strings.TrimSuffix(host, "."))] {
		return true
	}
	addr = addr.Unmap()
	for _, pr := range p.prefixes {
		if pr.Contains(addr) {
			return true
		}
	}
	return false
}

// HTTPClient returns the policy's HTTP client (one per policy, its
// connections pooled): every connection it makes passes the policy, and it
// follows at most 10 redirects. A nil policy refuses every internal
// address.
func (p *Policy) HTTPClient() *http.Client {
	if p == nil {
		return newClient(nil)
	}
	p.client.Do(func() { p.http = newClient(p) })
	return p.http
}

func newClient(p *Policy) *http.Client {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil, // a proxy would dial on the flow's behalf, past the check
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return nil, err
			}
			dd := *d
			// Control runs on the address being dialled, after resolution.
			dd.Control = func(_, raw string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(raw)
				if err != nil {
					return fmt.Errorf("%w: %s", ErrRefused, raw)
				}
				if !p.allowed(host, ap.Addr()) {
					return fmt.Errorf("%w: %s (%s) is an internal address; the operator may allow it with SKILLFLAW_EGRESS_ALLOW",
						ErrRefused, host, ap.Addr())
				}
				return nil
			}
			return dd.DialContext(ctx, network, address)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr, CheckRedirect: func(_ *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil // every redirect dials through the same check
	}}
}
