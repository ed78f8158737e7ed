package dpop

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

var errNotHTTPURI = errors.New("dpop: not an absolute http or https URI")

// normalizeURI returns the form of an http(s) URI that htu is compared in:
// RFC 9449 §4.3 step 9 compares htu with the request's target URI ignoring
// query and fragment, and asks for syntax-based and scheme-based
// normalisation first (RFC 3986 §6.2.2, §6.2.3), so that a client writing
// "HTTPS://Server.Example.COM:443/token" means "https://server.example.com/token".
//
// Concretely: scheme and host lowercased (§6.2.2.1); the default port (80
// for http, 443 for https) and an empty port dropped, any other port written
// in plain decimal (§6.2.3); percent-encodings in the path with uppercase
// hex digits, and those of unreserved characters decoded (§6.2.2.1,
// §6.2.2.2); dot segments removed (§6.2.2.3, RFC 3986 §5.2.4); an empty
// path is "/" (§6.2.3). Query and fragment are dropped. The path is
// otherwise case-sensitive and kept as sent ("/token/" is not "/token").
//
// A URI with userinfo is refused: RFC 9110 §4.2.4 forbids it in http(s)
// URIs, and a target URI never has one.
func normalizeURI(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	// url.Parse lowercases the scheme.
	if u.Scheme != "http" && u.Scheme != "https" || u.Opaque != "" || u.Host == "" || u.User != nil {
		return "", errNotHTTPURI
	}
	host := strings.ToLower(u.Hostname())
	if !validHost(host) {
		return "", errNotHTTPURI
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(u.Scheme)
	b.WriteString("://")
	if strings.IndexByte(host, ':') >= 0 {
		b.WriteByte('[')
		b.WriteString(host)
		b.WriteByte(']')
	} else {
		b.WriteString(host)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", errNotHTTPURI
		}
		if !(u.Scheme == "http" && n == 80 || u.Scheme == "https" && n == 443) {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(n))
		}
	}
	path := removeDotSegments(normalizePercent(u.EscapedPath()))
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	return b.String(), nil
}

// validHost reports whether host (lowercased, brackets removed) is a DNS name
// or an IP literal. url.Parse decodes percent-encodings and allows RFC 3986
// sub-delims in a host; no server is addressed by such a name, and refusing
// them keeps every normalised URI its own normal form.
func validHost(host string) bool {
	if host == "" {
		return false
	}
	ipv6 := strings.IndexByte(host, ':') >= 0
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.':
		case !ipv6 && (c == '-' || c == '_'):
		case ipv6 && c == ':':
		default:
			return false
		}
	}
	return true
}

// normalizePercent writes every percent-encoding in p with uppercase hex
// digits and decodes those of unreserved characters (RFC 3986 §2.3, §6.2.2.2).
// p comes from url.URL.EscapedPath, so every '%' starts a valid encoding.
func normalizePercent(p string) string {
	if strings.IndexByte(p, '%') < 0 {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' || i+2 >= len(p) {
			b.WriteByte(c)
			continue
		}
		hi, ok1 := unhex(p[i+1])
		lo, ok2 := unhex(p[i+2])
		if !ok1 || !ok2 {
			b.WriteByte(c)
			continue
		}
		v := hi<<4 | lo
		if unreserved(v) {
			b.WriteByte(v)
		} else {
			const hex = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hex[v>>4])
			b.WriteByte(hex[v&15])
		}
		i += 2
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unreserved reports whether c is an RFC 3986 §2.3 unreserved character.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// removeDotSegments is RFC 3986 §5.2.4, for an absolute path (or an empty
// one, which stays empty).
func removeDotSegments(in string) string {
	if !strings.Contains(in, ".") {
		return in
	}
	out := make([]string, 0, strings.Count(in, "/")+1)
	// Every segment after the leading "/" in turn; a trailing "." or ".."
	// leaves the path ending in "/" (RFC 3986 §5.2.4 steps B and C).
	segs := strings.Split(strings.TrimPrefix(in, "/"), "/")
	for i, seg := range segs {
		last := i == len(segs)-1
		switch seg {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, seg)
		}
	}
	return "/" + strings.Join(out, "/")
}
