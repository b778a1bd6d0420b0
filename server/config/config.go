// Package config reads the server's settings from the environment: one table
// of variables with their defaults and meanings (README lists them, -h
// prints them), parsed and checked together so every problem is reported.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/regulars/regulars/graph"
)

// Config is everything the process reads from its environment.
type Config struct {
	Env           string
	HTTPAddr      string
	MongoURI      string // empty: the embedded database in DataDir (development only)
	DataDir       string
	SeedDemo      bool // fill an empty database with the demo brand (-demo)
	MongoDatabase string
	MongoTimeout  time.Duration

	JWTSecret       string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	ServiceAPIKeys  []string
	CORSOrigins     string

	MaxBodyBytes      int
	QueryMaxDepth     int
	QueryMaxCost      int
	Introspection     bool
	Document          graph.DocumentLimits
	TrustedProxies    []string
	WSMaxPerMember    int
	WSMaxPerIP        int
	RefreshGrace      time.Duration
	IPRate            float64
	IPBurst           int
	MemberRate        float64
	MemberBurst       int
	WSInitTimeout     time.Duration
	WSSendQueue       int
	WSStallTimeout    time.Duration
	SocketSendBuffer  int
	HTTPMaxConnsPerIP int
	HTTPReadTimeout   time.Duration
	HTTPWriteTimeout  time.Duration
	HTTPIdleTimeout   time.Duration
	WSPingInterval    time.Duration
	ShutdownTimeout   time.Duration
	// JobInterval is how often an instance runs the periodic jobs; their
	// lease lasts three intervals.
	JobInterval time.Duration
	LogLevel    slog.Level

	// Accounts (server/accounts.go).
	SMTPURL     string
	SMTPFrom    string
	BrandName   string
	AppLinkBase string
	PublicURL   string

	// Push notifications (server/push.go); each provider off when unset.
	FCMCredentialsFile string
	FCMBaseURL         string
	APNsKeyFile        string
	APNsKeyID          string
	APNsTeamID         string
	APNsTopic          string
	APNsHost           string
}

// setting is one environment variable: its name, default and meaning, and
// how it lands in Config.
type setting struct {
	name, def, help string
	set             func(c *Config, v string) error
}

var settings = []setting{
	{"APP_ENV", "development", "development or production; production requires JWT_SECRET and turns introspection off by default",
		func(c *Config, v string) error {
			if v != "development" && v != "production" {
				return fmt.Errorf("must be development or production")
			}
			c.Env = v
			return nil
		}},
	{"HTTP_ADDR", ":8080", "address the HTTP and WebSocket server listens on", str(func(c *Config) *string { return &c.HTTPAddr })},
	{"MONGODB_URI", "", "MongoDB connection string (replica set, Atlas or standalone); empty: the embedded database in DATA_DIR, development only",
		func(c *Config, v string) error {
			if v != "" && !strings.HasPrefix(v, "mongodb://") && !strings.HasPrefix(v, "mongodb+srv://") {
				return fmt.Errorf("must start with mongodb:// or mongodb+srv://")
			}
			c.MongoURI = v
			return nil
		}},
	{"DATA_DIR", "./data", "where the embedded database keeps its files when MONGODB_URI is empty", str(func(c *Config) *string { return &c.DataDir })},
	{"SEED_DEMO", "", "1 (or -demo): fill an empty database with a demo brand and print its logins; development only",
		func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("want 1 or 0")
			}
			c.SeedDemo = b
			return nil
		}},
	{"MONGODB_DATABASE", "regulars", "database name", str(func(c *Config) *string { return &c.MongoDatabase })},
	{"MONGODB_TIMEOUT", "10s", "deadline of every MongoDB operation", dur(func(c *Config) *time.Duration { return &c.MongoTimeout })},
	{"JWT_SECRET", "", "HMAC secret for access tokens, at least 32 bytes; required in production, random per start in development",
		func(c *Config, v string) error {
			if v != "" && len(v) < 32 {
				return fmt.Errorf("must be at least 32 bytes")
			}
			c.JWTSecret = v
			return nil
		}},
	{"ACCESS_TOKEN_TTL", "15m", "lifetime of an access token", dur(func(c *Config) *time.Duration { return &c.AccessTokenTTL })},
	{"REFRESH_TOKEN_TTL", "720h", "lifetime of a refresh token", dur(func(c *Config) *time.Duration { return &c.RefreshTokenTTL })},
	{"SERVICE_API_KEYS", "", "comma-separated keys the brand's backend sends as Authorization: ApiKey <key>; each at least 24 characters",
		func(c *Config, v string) error {
			c.ServiceAPIKeys = nil
			for _, k := range strings.Split(v, ",") {
				if k = strings.TrimSpace(k); k == "" {
					continue
				}
				if len(k) < MinServiceKey {
					return fmt.Errorf("each key must be at least %d characters", MinServiceKey)
				}
				c.ServiceAPIKeys = append(c.ServiceAPIKeys, k)
			}
			return nil
		}},
	{"CORS_ORIGINS", "", "comma-separated origins allowed by CORS (* for any); empty: no CORS headers", str(func(c *Config) *string { return &c.CORSOrigins })},
	{"MAX_BODY_BYTES", "1048576", "largest request body; larger ones get 413", integer(func(c *Config) *int { return &c.MaxBodyBytes })},
	{"QUERY_MAX_DEPTH", "12", "deepest field nesting of an operation", integer(func(c *Config) *int { return &c.QueryMaxDepth })},
	{"QUERY_MAX_COMPLEXITY", "2000", "largest complexity of an operation (a connection counts first × its node)", integer(func(c *Config) *int { return &c.QueryMaxCost })},
	{"QUERY_MAX_TOKENS", "5000", "most lexical tokens in one GraphQL document (counted before parsing)", integer(func(c *Config) *int { return &c.Document.Tokens })},
	{"QUERY_MAX_DIRECTIVES", "10", "most directives on one field, fragment, variable or operation", integer(func(c *Config) *int { return &c.Document.DirectivesPerLocation })},
	{"QUERY_MAX_FRAGMENT_SPREADS", "500", "most fragment spreads one operation expands to, counted as if every fragment were inlined", integer(func(c *Config) *int { return &c.Document.FragmentSpreads })},
	{"QUERY_MAX_FIELDS", "500", "most field selections one operation or fragment expands to, counted as if every fragment were inlined (validation compares them pairwise: 500 costs about 20 ms at worst)", integer(func(c *Config) *int { return &c.Document.Fields })},
	{"QUERY_MAX_NESTING", "32", "deepest nesting of selection sets in the document text (fields and inline fragments)", integer(func(c *Config) *int { return &c.Document.Nesting })},
	{"QUERY_MAX_ERRORS", "10", "validation stops after this many errors", integer(func(c *Config) *int { return &c.Document.Errors })},
	{"QUERY_VALIDATION_BUDGET", "100ms", "wall-clock time allowed to lex, parse and validate one new document of 1,000 tokens or more (smaller ones are never refused by the clock)", dur(func(c *Config) *time.Duration { return &c.Document.Budget })},
	{"INTROSPECTION", "", "true or false; default true in development, false in production",
		func(c *Config, v string) error {
			if v == "" {
				c.Introspection = c.Env != "production"
				return nil
			}
			b, err := strconv.ParseBool(v)
			c.Introspection = b
			return err
		}},
	{"RATE_LIMIT_IP_RPS", "30", "requests per second allowed per client IP (sustained)", float(func(c *Config) *float64 { return &c.IPRate })},
	{"RATE_LIMIT_IP_BURST", "60", "burst allowed per client IP", integer(func(c *Config) *int { return &c.IPBurst })},
	{"RATE_LIMIT_MEMBER_RPS", "10", "root fields per second allowed per signed-in member (sustained), over HTTP and the WebSocket", float(func(c *Config) *float64 { return &c.MemberRate })},
	{"RATE_LIMIT_MEMBER_BURST", "30", "burst allowed per signed-in member", integer(func(c *Config) *int { return &c.MemberBurst })},
	{"TRUSTED_PROXIES", "", "comma-separated CIDRs or addresses of reverse proxies whose X-Forwarded-For is believed; empty: none, the peer address is the client",
		func(c *Config, v string) error {
			c.TrustedProxies = nil
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p == "" {
					continue
				}
				if _, err := netip.ParsePrefix(p); err != nil {
					if _, err := netip.ParseAddr(p); err != nil {
						return fmt.Errorf("%q is neither a CIDR nor an IP address", p)
					}
				}
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
			return nil
		}},
	{"WS_MAX_PER_MEMBER", "10", "open sockets one signed-in member may hold; the newest over the cap is closed 1008 at connection_init", integer(func(c *Config) *int { return &c.WSMaxPerMember })},
	{"WS_MAX_PER_IP", "100", "open sockets one client address may hold; the newest over the cap is closed 1008 on connecting", integer(func(c *Config) *int { return &c.WSMaxPerIP })},
	{"REFRESH_REUSE_GRACE", "10s", "a refresh token presented again this soon after it was spent gets the same new pair (a retry), later it revokes the session (theft)", dur(func(c *Config) *time.Duration { return &c.RefreshGrace })},
	{"WS_INIT_TIMEOUT", "3s", "time a socket has to send connection_init (then closed 4408)", dur(func(c *Config) *time.Duration { return &c.WSInitTimeout })},
	{"WS_SEND_QUEUE", "16", "messages queued per socket (results wait for room; only a client that stops reading for WS_STALL_TIMEOUT is closed)", integer(func(c *Config) *int { return &c.WSSendQueue })},
	{"WS_STALL_TIMEOUT", "5s", "a socket whose queue stays full this long is closed 4413 (the client should resume)", dur(func(c *Config) *time.Duration { return &c.WSStallTimeout })},
	{"SOCKET_SEND_BUFFER", "0", "kernel send buffer per connection in bytes (0: the OS default); smaller saves memory per idle WebSocket", integer(func(c *Config) *int { return &c.SocketSendBuffer })},
	{"HTTP_MAX_CONNS_PER_IP", "200", "open connections (HTTP and WebSocket) one client address may hold; one over the cap is answered 429 and closed. Trusted proxies are not capped", integer(func(c *Config) *int { return &c.HTTPMaxConnsPerIP })},
	{"HTTP_READ_TIMEOUT", "30s", "time to read one request, headers and body; a client sending slower (slowloris) is cut off", dur(func(c *Config) *time.Duration { return &c.HTTPReadTimeout })},
	{"HTTP_WRITE_TIMEOUT", "30s", "time to write one response; a client reading slower is cut off", dur(func(c *Config) *time.Duration { return &c.HTTPWriteTimeout })},
	{"HTTP_IDLE_TIMEOUT", "120s", "a keep-alive connection idle this long between requests is closed", dur(func(c *Config) *time.Duration { return &c.HTTPIdleTimeout })},
	{"WS_PING_INTERVAL", "25s", "how often the server pings an idle socket (0: never)", dur(func(c *Config) *time.Duration { return &c.WSPingInterval })},
	{"JOB_INTERVAL", "1m", "how often the periodic jobs run (on one instance at a time, under a lease of three intervals)", dur(func(c *Config) *time.Duration { return &c.JobInterval })},
	{"SHUTDOWN_TIMEOUT", "15s", "how long shutdown waits for requests and sockets to drain", dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"SMTP_URL", "", "SMTP server for account emails: smtp://user:pass@host:587 (STARTTLS when offered; ?tls=required to insist) or smtps://user:pass@host:465; empty: emails are logged (and appended to DATA_DIR/sent-mail.log) in development, not sent",
		func(c *Config, v string) error {
			if v != "" && !strings.HasPrefix(v, "smtp://") && !strings.HasPrefix(v, "smtps://") {
				return fmt.Errorf("must start with smtp:// or smtps://")
			}
			c.SMTPURL = v
			return nil
		}},
	{"SMTP_FROM", "", "From address of account emails, e.g. Brand <no-reply@brand.example>; required with SMTP_URL", str(func(c *Config) *string { return &c.SMTPFrom })},
	{"BRAND_NAME", "Regulars", "the brand's name, as account emails say it", str(func(c *Config) *string { return &c.BrandName })},
	{"APP_LINK_BASE", "regulars://", "start of the links in account emails: <base>reset-password?token=… and <base>verify-email?token=… (an app scheme, or an https page that opens the app)", str(func(c *Config) *string { return &c.AppLinkBase })},
	{"PUBLIC_URL", "http://localhost:8080", "the server's address as members reach it: data export download links start with it", str(func(c *Config) *string { return &c.PublicURL })},
	{"FCM_CREDENTIALS_FILE", "", "path of the Firebase service account key (JSON) that sends pushes to Android and web; empty: no pushes to them", str(func(c *Config) *string { return &c.FCMCredentialsFile })},
	{"FCM_BASE_URL", "https://fcm.googleapis.com", "FCM HTTP v1 endpoint", str(func(c *Config) *string { return &c.FCMBaseURL })},
	{"APNS_KEY_FILE", "", "path of the APNs signing key (.p8) that sends pushes to iOS; empty: no pushes to iOS", str(func(c *Config) *string { return &c.APNsKeyFile })},
	{"APNS_KEY_ID", "", "the APNs key's id (10 characters, beside the key in the Apple developer account)", str(func(c *Config) *string { return &c.APNsKeyID })},
	{"APNS_TEAM_ID", "", "the Apple developer team id", str(func(c *Config) *string { return &c.APNsTeamID })},
	{"APNS_TOPIC", "", "the iOS app's bundle id", str(func(c *Config) *string { return &c.APNsTopic })},
	{"APNS_HOST", "https://api.push.apple.com", "APNs endpoint: https://api.sandbox.push.apple.com for development builds", str(func(c *Config) *string { return &c.APNsHost })},
	{"LOG_LEVEL", "info", "debug, info, warn or error", func(c *Config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
}

// Load reads the environment through getenv; every problem is reported,
// one per line, not just the first.
func Load(getenv func(string) string) (Config, error) {
	var c Config
	var problems []error
	for _, s := range settings {
		v := getenv(s.name)
		if v == "" {
			v = s.def
		}
		if err := s.set(&c, v); err != nil {
			problems = append(problems, fmt.Errorf("%s=%q: %v", s.name, v, err))
		}
	}
	if c.Env == "production" && c.JWTSecret == "" {
		problems = append(problems, errors.New("JWT_SECRET: required when APP_ENV=production"))
	}
	if c.Env == "production" && c.MongoURI == "" {
		problems = append(problems, errors.New("MONGODB_URI: required when APP_ENV=production (the embedded database is for development, demos and tests)"))
	}
	if c.SMTPURL != "" && c.SMTPFrom == "" {
		problems = append(problems, errors.New("SMTP_FROM: required with SMTP_URL"))
	}
	if c.APNsKeyFile != "" && (c.APNsKeyID == "" || c.APNsTeamID == "" || c.APNsTopic == "") {
		problems = append(problems, errors.New("APNS_KEY_FILE: APNS_KEY_ID, APNS_TEAM_ID and APNS_TOPIC are required with it"))
	}
	if c.Env == "production" && c.SeedDemo {
		problems = append(problems, errors.New("SEED_DEMO: demo data is for development; not allowed when APP_ENV=production"))
	}
	positive := map[string]bool{
		"MONGODB_TIMEOUT": c.MongoTimeout > 0, "ACCESS_TOKEN_TTL": c.AccessTokenTTL > 0,
		"REFRESH_TOKEN_TTL": c.RefreshTokenTTL > c.AccessTokenTTL, "MAX_BODY_BYTES": c.MaxBodyBytes > 0,
		"QUERY_MAX_DEPTH": c.QueryMaxDepth > 0, "QUERY_MAX_COMPLEXITY": c.QueryMaxCost > 0,
		"RATE_LIMIT_IP_RPS": c.IPRate > 0, "RATE_LIMIT_IP_BURST": c.IPBurst > 0,
		"RATE_LIMIT_MEMBER_RPS": c.MemberRate > 0, "RATE_LIMIT_MEMBER_BURST": c.MemberBurst > 0,
		"WS_INIT_TIMEOUT": c.WSInitTimeout > 0, "WS_SEND_QUEUE": c.WSSendQueue > 0, "WS_STALL_TIMEOUT": c.WSStallTimeout > 0,
		"QUERY_MAX_TOKENS": c.Document.Tokens > 0, "QUERY_MAX_DIRECTIVES": c.Document.DirectivesPerLocation > 0,
		"QUERY_MAX_FRAGMENT_SPREADS": c.Document.FragmentSpreads > 0, "QUERY_MAX_FIELDS": c.Document.Fields > 0, "QUERY_MAX_NESTING": c.Document.Nesting > 0,
		"QUERY_MAX_ERRORS": c.Document.Errors > 0, "QUERY_VALIDATION_BUDGET": c.Document.Budget > 0,
		"WS_MAX_PER_MEMBER": c.WSMaxPerMember > 0, "WS_MAX_PER_IP": c.WSMaxPerIP > 0, "REFRESH_REUSE_GRACE": c.RefreshGrace >= 0,
		"WS_PING_INTERVAL": c.WSPingInterval >= 0, "SOCKET_SEND_BUFFER": c.SocketSendBuffer >= 0, "SHUTDOWN_TIMEOUT": c.ShutdownTimeout > 0, "JOB_INTERVAL": c.JobInterval > 0,
		"HTTP_MAX_CONNS_PER_IP": c.HTTPMaxConnsPerIP > 0, "HTTP_READ_TIMEOUT": c.HTTPReadTimeout > 0,
		"HTTP_WRITE_TIMEOUT": c.HTTPWriteTimeout > 0, "HTTP_IDLE_TIMEOUT": c.HTTPIdleTimeout > 0,
	}
	for _, s := range settings {
		if ok, checked := positive[s.name]; checked && !ok {
			if s.name == "REFRESH_TOKEN_TTL" {
				problems = append(problems, errors.New("REFRESH_TOKEN_TTL: must be longer than ACCESS_TOKEN_TTL"))
			} else if v := getenv(s.name); v == "" || s.set(&Config{}, v) == nil {
				// A value that did not parse was reported above already.
				problems = append(problems, fmt.Errorf("%s: must be positive", s.name))
			}
		}
	}
	return c, errors.Join(problems...)
}

// PrintUsage lists every variable with its default. It returns w's error.
func PrintUsage(w io.Writer) error {
	if _, err := fmt.Fprintln(w, "Usage: server [-h] [-demo] [-canonicalize-emails]\n\n  -demo  fill an empty database with a demo brand, as SEED_DEMO=1\n  -canonicalize-emails  rewrite stored e-mail addresses into their canonical form, report conflicts, and exit\n\nRegulars reads its configuration from these environment variables:"); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "(empty)"
		}
		if _, err := fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.name, def, s.help); err != nil {
			return err
		}
	}
	return tw.Flush()
}

func str(f func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *f(c) = v; return nil }
}

func dur(f func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("want a duration such as 10s or 15m")
		}
		*f(c) = d
		return nil
	}
}

func integer(f func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("want a whole number")
		}
		*f(c) = n
		return nil
	}
}

func float(f func(*Config) *float64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("want a number")
		}
		*f(c) = n
		return nil
	}
}

// MinServiceKey is the shortest service API key accepted, in characters.
const MinServiceKey = 24
