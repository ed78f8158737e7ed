package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/authd/authd/internal/config"
	"github.com/authd/authd/internal/testenv"
)

// composeFile is the part of compose.yaml these tests read.
type composeFile struct {
	Services map[string]struct {
		Environment     map[string]string `yaml:"environment"`
		User            string            `yaml:"user"`
		ReadOnly        bool              `yaml:"read_only"`
		CapDrop         []string          `yaml:"cap_drop"`
		SecurityOpt     []string          `yaml:"security_opt"`
		Ports           []string          `yaml:"ports"`
		StopGracePeriod string            `yaml:"stop_grace_period"`
		Healthcheck     struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

// readEnvFile reads KEY=VALUE lines (.env.example, the unit's Environment=).
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not KEY=VALUE", path, line)
		}
		vals[k] = v
	}
	return vals
}

// interpolation is compose's ${VAR}, ${VAR:-default} and ${VAR:?message}.
var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// interpolate fills s from vars as compose would; a required variable that is
// unset or empty is an error.
func interpolate(s string, vars map[string]string) (string, error) {
	var err error
	out := interpolation.ReplaceAllStringFunc(s, func(m string) string {
		g := interpolation.FindStringSubmatch(m)
		v, set := vars[g[1]]
		switch g[2] {
		case ":-":
			if v == "" {
				return g[3]
			}
		case ":?":
			if v == "" {
				err = errors.New(g[1] + ": " + g[3])
			}
		case "":
			if !set {
				err = errors.New(g[1] + " is not set")
			}
		}
		return v
	})
	return out, err
}

// loadSettings runs authd's own configuration loader on vals, the way serve
// would see them in its environment.
func loadSettings(t *testing.T, where string, vals map[string]string) *config.Config {
	t.Helper()
	for k := range vals {
		if !strings.HasPrefix(k, "AUTHD_") {
			continue
		}
		// The environment ignores unknown names; a config file refuses them.
		f := filepath.Join(t.TempDir(), "one.yaml")
		if err := os.WriteFile(f, []byte(k+": x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var ce *config.Error
		if _, err := config.Load(f, func(string) string { return "" }); errors.As(err, &ce) && strings.HasPrefix(ce.Msg, "unknown setting") {
			t.Errorf("%s: %s is not a setting authd knows", where, k)
		}
	}
	cfg, err := config.Load("", func(k string) string { return vals[k] })
	if err != nil {
		t.Fatalf("%s: authd refuses these settings: %v", where, err)
	}
	return cfg
}

// exampleVars is .env.example with its empty secrets filled in, as an
// operator following its comments would.
func exampleVars(t *testing.T) map[string]string {
	vars := readEnvFile(t, ".env.example")
	for k, v := range vars {
		if v != "" {
			continue
		}
		switch k {
		case "AUTHD_MASTER_KEY", "AUTHD_ADMIN_TOKEN":
			vars[k] = randomString(t, 32) // openssl rand -base64 32
		case "POSTGRES_PASSWORD", "REDIS_PASSWORD":
			vars[k] = "0123456789abcdef0123456789abcdef0123456789abcdef" // openssl rand -hex 24
		}
	}
	return vars
}

// TestComposeSettings checks that authd accepts the settings compose.yaml
// gives it from .env.example, that every variable compose needs is in the
// example, and the hardening and the shutdown margin the file promises.
func TestComposeSettings(t *testing.T) {
	c := readCompose(t)
	vars := exampleVars(t)
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range interpolation.FindAllStringSubmatch(string(raw), -1) {
		if _, ok := vars[m[1]]; !ok {
			t.Errorf("compose.yaml uses ${%s}, which .env.example does not list", m[1])
		}
	}

	svc, ok := c.Services["authd"]
	if !ok {
		t.Fatal("compose.yaml has no authd service")
	}
	env := map[string]string{}
	for k, v := range svc.Environment {
		if env[k], err = interpolate(v, vars); err != nil {
			t.Errorf("compose.yaml: authd %s: %v", k, err)
		}
	}
	cfg := loadSettings(t, "compose.yaml", env)
	if cfg.Embedded() || cfg.RedisURL == "" {
		t.Errorf("compose.yaml: authd should run on PostgreSQL and Redis (database %q, redis %q)", cfg.DatabaseURL, cfg.RedisURL)
	}

	if svc.User == "" || svc.User == "0" || strings.HasPrefix(svc.User, "root") || strings.HasPrefix(svc.User, "0:") {
		t.Errorf("compose.yaml: authd runs as %q, want a non-root user", svc.User)
	}
	if !svc.ReadOnly || !strings.EqualFold(strings.Join(svc.CapDrop, ","), "ALL") {
		t.Errorf("compose.yaml: authd needs read_only: true and cap_drop: [ALL]")
	}
	for _, p := range svc.Ports {
		if strings.HasSuffix(p, ":8081") && !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("compose.yaml: the admin listener is published on %q, want 127.0.0.1 only", p)
		}
	}
	grace, err := time.ParseDuration(svc.StopGracePeriod)
	if err != nil || grace < cfg.ShutdownTimeout+5*time.Second {
		t.Errorf("compose.yaml: stop_grace_period %q, want at least AUTHD_SHUTDOWN_TIMEOUT (%s) + 5s", svc.StopGracePeriod, cfg.ShutdownTimeout)
	}
	if len(svc.Healthcheck.Test) < 2 || svc.Healthcheck.Test[1] != "/usr/local/bin/authd-healthcheck" {
		t.Errorf("compose.yaml: authd's healthcheck %q should run the image's probe", svc.Healthcheck.Test)
	}
	for _, dep := range []string{"postgres", "redis"} {
		if svc.DependsOn[dep].Condition != "service_healthy" {
			t.Errorf("compose.yaml: authd should wait for %s to be healthy", dep)
		}
		if len(c.Services[dep].Healthcheck.Test) == 0 {
			t.Errorf("compose.yaml: %s has no healthcheck", dep)
		}
	}
}

// TestSystemdUnit checks that authd accepts the unit's settings and that the
// unit waits longer than authd's shutdown before it kills.
func TestSystemdUnit(t *testing.T) {
	raw, err := os.ReadFile("authd.service")
	if err != nil {
		t.Fatal(err)
	}
	directives := map[string][]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && line[0] != '#' && line[0] != ';' {
			directives[k] = append(directives[k], v)
		}
	}
	env := map[string]string{}
	for _, e := range directives["Environment"] {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	cfg := loadSettings(t, "authd.service", env)
	if cfg.DataDir != "/var/lib/"+first(directives["StateDirectory"]) {
		t.Errorf("authd.service: AUTHD_DATA_DIR %q is not the StateDirectory", cfg.DataDir)
	}
	stop, err := time.ParseDuration(first(directives["TimeoutStopSec"]))
	if err != nil || stop < cfg.ShutdownTimeout+5*time.Second {
		t.Errorf("authd.service: TimeoutStopSec %q, want at least AUTHD_SHUTDOWN_TIMEOUT (%s) + 5s", first(directives["TimeoutStopSec"]), cfg.ShutdownTimeout)
	}
	for _, want := range []string{"User", "NoNewPrivileges", "ProtectSystem", "PrivateTmp", "CapabilityBoundingSet", "ReadWritePaths", "Restart"} {
		if len(directives[want]) == 0 {
			t.Errorf("authd.service: no %s=", want)
		}
	}
	if first(directives["CapabilityBoundingSet"]) != "" || first(directives["ProtectSystem"]) != "strict" {
		t.Errorf("authd.service: want CapabilityBoundingSet= (empty) and ProtectSystem=strict")
	}
}

// unitDirectives reads a systemd unit's Key=value lines; with commented, also
// the commented-out ones ("#Key=value", an option left for the operator).
func unitDirectives(t *testing.T, path string, commented bool) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := map[string][]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if commented {
			line = strings.TrimPrefix(line, "#")
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && !strings.ContainsAny(k, " \t") {
			d[k] = append(d[k], v)
		}
	}
	return d
}

// TestSystemdSockets: the optional socket units carry the names authd takes
// (cmd/authd/listen.go), listen where authd would by default, start authd,
// and are the ones the service's Sockets= line names.
func TestSystemdSockets(t *testing.T) {
	defaults, err := config.Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ name, addr string }{
		"authd-public.socket": {"public", defaults.Listen},
		"authd-admin.socket":  {"admin", defaults.AdminListen},
	}
	for file, w := range want {
		d := unitDirectives(t, file, false)
		if got := first(d["FileDescriptorName"]); got != w.name {
			t.Errorf("%s: FileDescriptorName=%s, want %s", file, got, w.name)
		}
		if got := d["ListenStream"]; len(got) != 1 || got[0] != w.addr {
			t.Errorf("%s: ListenStream=%v, want one, %s (the default authd binds)", file, got, w.addr)
		}
		if got := first(d["Service"]); got != "authd.service" {
			t.Errorf("%s: Service=%s, want authd.service", file, got)
		}
	}
	svc := unitDirectives(t, "authd.service", true)
	named := strings.Fields(first(svc["Sockets"]))
	slices.Sort(named)
	if !slices.Equal(named, []string{"authd-admin.socket", "authd-public.socket"}) {
		t.Errorf("authd.service: Sockets=%v, want both socket units", named)
	}
}

// promtoolPath is the promtool interop/install.sh installed, else one on
// PATH, else "".
func promtoolPath() string {
	raw, _ := os.ReadFile("../interop/versions.env")
	version := ""
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "PROMTOOL_VERSION="); ok {
			version = strings.TrimSpace(v)
		}
	}
	cache := os.Getenv("AUTHD_INTEROP_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "authd-interop")
	}
	if p := filepath.Join(cache, "promtool-"+version, "promtool"); version != "" {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	p, _ := exec.LookPath("promtool")
	return p
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// TestDockerfile checks what can be checked without a Docker engine: the Go
// image is new enough for go.mod (the golang images set GOTOOLCHAIN=local), the
// packages it builds exist, and the probe it installs is the one compose runs.
func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	m := regexp.MustCompile(`(?m)^ARG GO_VERSION=(\S+)$`).FindStringSubmatch(df)
	if m == nil {
		t.Fatal("Dockerfile: no ARG GO_VERSION=")
	}
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	gm := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if gm == nil {
		t.Fatal("go.mod: no go line")
	}
	if !versionAtLeast(m[1], string(gm[1])) {
		t.Errorf("Dockerfile: GO_VERSION %s is older than go.mod's go %s", m[1], gm[1])
	}
	builds := regexp.MustCompile(`go build [^\n]*-o (/out/\S+) (\./\S+)`).FindAllStringSubmatch(df, -1)
	if len(builds) == 0 {
		t.Fatal("Dockerfile: no go build")
	}
	outs := map[string]bool{}
	for _, b := range builds {
		outs[filepath.Base(b[1])] = true
		if _, err := os.Stat(filepath.Join("..", b[2], "main.go")); err != nil {
			t.Errorf("Dockerfile builds %s: %v", b[2], err)
		}
	}
	if !outs["authd"] || !outs["authd-healthcheck"] {
		t.Errorf("Dockerfile: builds %v, want authd and authd-healthcheck", outs)
	}
	if !strings.Contains(df, "CGO_ENABLED=0") || !strings.Contains(df, "USER 65532") {
		t.Error("Dockerfile: want CGO_ENABLED=0 (a static binary) and USER 65532 (non-root)")
	}
}

// versionAtLeast compares dotted Go versions (1.26.8 >= 1.26).
func versionAtLeast(v, min string) bool {
	a, b := strings.Split(v, "."), strings.Split(min, ".")
	for i := range max(len(a), len(b)) {
		var x, y int
		if i < len(a) {
			x, _ = strconv.Atoi(a[i])
		}
		if i < len(b) {
			y, _ = strconv.Atoi(b[i])
		}
		if x != y {
			return x > y
		}
	}
	return true
}

// TestAlertRuleUnitTests runs prometheus/alerts_test.yaml with promtool:
// the one interop/install.sh builds from the Go module proxy (the version in
// interop/versions.env), or one on PATH.
func TestAlertRuleUnitTests(t *testing.T) {
	promtool := promtoolPath()
	if promtool == "" {
		msg := "promtool is missing; the alert rules' unit tests (prometheus/alerts_test.yaml) need it: bash interop/install.sh"
		if testenv.RequireServers() {
			t.Fatal(msg + "; AUTHD_REQUIRE_SERVERS=1 forbids skipping")
		}
		t.Skip(msg)
	}
	cmd := exec.Command(promtool, "test", "rules", "alerts_test.yaml")
	cmd.Dir = "prometheus"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
	cmd = exec.Command(promtool, "check", "config", "prometheus.yaml")
	cmd.Dir = "prometheus"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
}
