// Command server runs Regulars: GraphQL over HTTP and WebSocket on MongoDB.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/account"
	"github.com/regulars/regulars/analytics"
	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/attendees"
	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/community/reviewlive"
	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/game/effects"
	"github.com/regulars/regulars/game/offer/offerlive"
	"github.com/regulars/regulars/graph"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/embeddb"
	"github.com/regulars/regulars/internal/lease"
	"github.com/regulars/regulars/internal/livepoll"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
	"github.com/regulars/regulars/push"
	"github.com/regulars/regulars/server/config"
	"github.com/regulars/regulars/server/dbhealth"
	"github.com/regulars/regulars/server/demo"
	"github.com/regulars/regulars/server/downloads"
	"github.com/regulars/regulars/server/edge"
	"github.com/regulars/regulars/server/gateway"
	"github.com/regulars/regulars/server/jobs"
	"github.com/regulars/regulars/server/live"
	"github.com/regulars/regulars/server/metrics"
	"github.com/regulars/regulars/texts"
	"github.com/regulars/regulars/till"
	"github.com/regulars/regulars/webhook"
)

func main() {
	flag.Usage = func() {
		if err := config.PrintUsage(flag.CommandLine.Output()); err != nil {
			slog.Error("print usage", "err", err)
		}
	}
	canonicalize := flag.Bool("canonicalize-emails", false, "rewrite stored e-mail addresses into their canonical form, report, and exit")
	demo := flag.Bool("demo", false, "fill an empty database with a demo brand (as SEED_DEMO=1)")
	flag.Parse()
	getenv := os.Getenv
	if *demo {
		getenv = func(k string) string {
			if k == "SEED_DEMO" {
				return "1"
			}
			return os.Getenv(k)
		}
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "configuration problems:\n%v\n\nRun with -h to list every variable.\n", err)
		os.Exit(2)
	}
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *canonicalize {
		os.Exit(canonicalizeEmails(ctx, cfg))
	}
	m := NewMain(cfg)
	if err := m.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "regulars: cannot start: %v\n", err)
		os.Exit(1)
	}
	<-ctx.Done()
	slog.Info("shutting down")
	if err := m.Close(); err != nil {
		slog.Error("shutdown", "err", err)
		os.Exit(1)
	}
}

// canonicalizeEmails runs member.CanonicalizeEmails once, on a private
// address, and returns the exit status.
func canonicalizeEmails(ctx context.Context, cfg config.Config) int {
	cfg.HTTPAddr = "127.0.0.1:0"
	m := NewMain(cfg)
	if err := m.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "regulars: cannot start: %v\n", err)
		return 1
	}
	defer func() { _ = m.Close() }()
	select {
	case <-m.Ready():
	case <-ctx.Done():
		return 1
	}
	r, err := m.members.CanonicalizeEmails(ctx)
	fmt.Printf("checked %d, changed %d\n", r.Checked, r.Changed)
	for _, id := range r.Conflicts {
		fmt.Printf("conflict: member %s has an address another member holds in canonical form; merge or close one by hand\n", id.Hex())
	}
	for _, id := range r.Unparseable {
		fmt.Printf("unparseable: member %s has an address that is not valid today\n", id.Hex())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "regulars: %v\n", err)
		return 1
	}
	return 0
}

// Main is the running program: tests start one on a random port exactly as
// main does.
type Main struct {
	Config config.Config
	// DemoOut receives the demo's logins (SEED_DEMO); nil: standard output.
	DemoOut io.Writer

	mongo    *mongo.Client
	dbHealth *dbhealth.Monitor
	embedded *embeddb.DB // nil on MongoDB
	members  *member.Service
	auth     *auth.Service
	inbox    *inbox.Inbox
	texts    *texts.Templates
	broker   *inbox.PollBroker
	game     *game.Service
	events   *events.Service
	rsvps    *rsvp.Service
	// attendees reads who answered an event: lists, counts, reminders.
	attendees *attendees.Service
	till      *till.Service
	// tillNow is the member cards' clock (tests move it; nil: time.Now).
	tillNow func() time.Time
	// eventClock is the events' clock (tests move it; nil: time.Now).
	eventClock func() time.Time
	analytics  *analytics.Service
	exec       *graph.Executor
	metrics    *metrics.Metrics
	app        *fiber.App
	ln         net.Listener
	sockets    *live.Hub
	// community: spaces, threads, moderation (package community).
	community *community.Service
	// webhooks: the brand's endpoints, the outbox and its delivery loop.
	webhooks *webhook.Service
	// webhooksOff keeps the delivery loop from starting (tests: a server
	// that stops before it delivers).
	webhooksOff bool
	// accounts: password reset, email verification, deletion, export.
	accounts *account.Service
	// Mailer, if set before Run, sends the account emails (tests); nil:
	// SMTP_URL's, or the log.
	Mailer account.Mailer
	// mailNote logs, once started, that emails are not sent (no SMTP_URL).
	mailNote func()
	// push: devices and the push outbox (package push); pushOff says
	// which providers are off, logged once started.
	push    *push.Service
	pushOff string

	// gate admits every operation, over HTTP and the socket.
	gate *gateway.Gateway
	// downloads serves the files outside GraphQL (calendar, CSV, exports).
	downloads *downloads.Routes

	background sync.WaitGroup // jobs and pollers, waited for before disconnecting
	ready      atomic.Bool
	readyCh    chan struct{}
	stopRetry  context.CancelFunc
	served     chan error
	closeOnce  sync.Once

	// jobRound, when set (by tests), is told when this instance starts
	// and ends a round of the periodic jobs under the lease's epoch.
	jobRound func(epoch int64, start bool)
	// heldEffects, when set (by tests), wraps the webhooks the game's
	// effects emit to: a test can hold an activity's effects half-way.
	heldEffects func(effects.Webhooks) effects.Webhooks
	// livePoll, when set (by tests), replaces the poll intervals of the
	// live views (reviewQueuePoll, offerProgressPoll).
	livePoll time.Duration

	demoKey string // service key generated for a demo run
	// endedSessions are the sessions logged out or revoked on any instance
	// whose access tokens have not expired yet (watchSessions).
	endedSessions gateway.EndedSessions
	// appliedSessions are the session events (ID → At) this instance has
	// applied, by the local hook or watchSessions: each is applied once,
	// so a socket opened after it (with a fresh token) stays open.
	appliedSessions sync.Map
	devKeyFile      string        // where the development service key is kept, if one is used
	demoDone        chan struct{} // closed once demo seeding ended
	demoErr         error
}

// NewMain returns a Main for cfg; Run starts it.
func NewMain(cfg config.Config) *Main {
	return &Main{Config: cfg, readyCh: make(chan struct{}), served: make(chan error, 1), demoDone: make(chan struct{})}
}

// Addr is where the server listens, once Run has returned.
func (m *Main) Addr() string { return m.ln.Addr().String() }

// Ready is closed once MongoDB answered and the indexes exist.
func (m *Main) Ready() <-chan struct{} { return m.readyCh }

// Run connects, builds the app and starts serving; it returns once the
// listener is open. MongoDB may still be unreachable: Run keeps retrying in
// the background and /readyz says when it is ready.
func (m *Main) Run(ctx context.Context) error {
	cfg := m.Config
	secret := []byte(cfg.JWTSecret)
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}

	m.metrics = metrics.New()
	uri := cfg.MongoURI
	if uri == "" {
		var err error
		m.embedded, err = embeddb.Open(cfg.DataDir, nil)
		if err != nil {
			return err
		}
		uri = m.embedded.URI()
		if len(cfg.ServiceAPIKeys) == 0 {
			// So the README's brand examples work as pasted: a key kept
			// beside the embedded database, the same at every start.
			key, err := devServiceKey(cfg.DataDir)
			if err != nil {
				return errors.Join(err, m.embedded.Close())
			}
			m.Config.ServiceAPIKeys = []string{key}
			m.devKeyFile = filepath.Join(cfg.DataDir, devServiceKeyFile)
		}
	}
	if cfg.SeedDemo && len(cfg.ServiceAPIKeys) == 0 {
		// The demo prints the key its first query needs (on MongoDB, one
		// that lives as long as the process).
		if len(m.Config.ServiceAPIKeys) == 0 {
			m.Config.ServiceAPIKeys = []string{"demo-" + rand.Text()}
		}
		m.demoKey = m.Config.ServiceAPIKeys[0]
	}
	err := m.start(ctx, uri, secret)
	if err != nil && m.embedded != nil {
		err = errors.Join(err, m.embedded.Close())
	}
	if err != nil {
		return err
	}
	// Logged once started, so that a failed start prints its error line only.
	if cfg.JWTSecret == "" {
		slog.Warn("JWT_SECRET is not set: using a random secret for this process only. Tokens die with it, and several instances will not accept each other's tokens. Set JWT_SECRET (required when APP_ENV=production).")
	}
	if m.embedded != nil {
		slog.Info(fmt.Sprintf("embedded database in %s, for development and small trials; set MONGODB_URI for MongoDB", cfg.DataDir))
	}
	if m.mailNote != nil {
		m.mailNote()
	}
	if m.pushOff != "" {
		slog.Info(m.pushOff)
	}
	if m.devKeyFile != "" {
		slog.Info(fmt.Sprintf("SERVICE_API_KEYS is not set: the brand's backend calls with the development key in %s (SERVICE_KEY=$(cat %s))", m.devKeyFile, m.devKeyFile))
	}
	return nil
}

func (m *Main) start(ctx context.Context, uri string, secret []byte) error {
	cfg := m.Config
	m.dbHealth = dbhealth.New(uri)
	client, err := mongo.Connect(options.Client().
		ApplyURI(uri).
		SetServerMonitor(m.dbHealth.ServerMonitor()).
		// Every operation gets this deadline unless its context has a sooner one.
		SetTimeout(cfg.MongoTimeout).
		SetServerSelectionTimeout(cfg.MongoTimeout).
		SetMonitor(m.metrics.MongoMonitor()))
	if err != nil {
		return fmt.Errorf("mongodb client: %w", err)
	}
	m.mongo = client
	db := client.Database(cfg.MongoDatabase)

	m.members = member.New(db, nil)
	m.auth, err = auth.New(db, m.members, auth.Config{JWTSecret: secret, AccessTTL: cfg.AccessTokenTTL, RefreshTTL: cfg.RefreshTokenTTL, RefreshGrace: cfg.RefreshGrace})
	if err != nil {
		return err
	}
	// A session ended here is refused here from the next request; the
	// other instances hear of it through watchSessions.
	m.auth.SetSessionsEnded(func(ev auth.SessionEvent) {
		m.appliedSessions.Store(ev.ID, ev.At)
		m.endedSessions.Add(ev, cfg.AccessTokenTTL)
		if m.sockets != nil {
			m.sockets.EndSessions(ev)
		}
	})
	// Polling lets several instances share one database, standalone or not.
	m.broker = inbox.NewPollBroker(db, m.crossPoll())
	m.inbox = inbox.New(db, m.broker)
	// Notification words come from the templates, with the brand's overrides.
	m.texts = texts.New(db)
	m.inbox.SetTexts(m.texts)
	m.game = game.New(db, m.members, m.inbox)
	// A templated message that names no language speaks its member's.
	m.inbox.SetLocales(m.memberLocales())
	m.webhooks = m.newWebhooks(db)
	var hooks effects.Webhooks = m.webhooks
	if m.heldEffects != nil {
		hooks = m.heldEffects(hooks)
	}
	m.game.SetWebhooks(hooks)
	// A change made here wakes this instance's live views at once; those
	// of other instances see it at their next poll.
	queueSignals, offerSignals := new(livepoll.Signals), new(livepoll.Signals)
	m.game.Offers().Changed = offerSignals.Signal
	m.community = newCommunity(db, m.members, m.game, m.inbox, queueSignals)
	m.events, m.rsvps = m.newEvents(db, secret)
	m.attendees = attendees.New(db, m.events, attendees.Deps{Notify: m.inbox, Now: m.eventClock})
	m.till = m.newTill(db, secret)
	m.analytics = analytics.New(db, m.game.Rooms().Program, nil) // the game's store, so a program change applies at once
	if m.push, err = m.newPush(db); err != nil {
		_ = client.Disconnect(context.Background())
		return err
	}
	if m.accounts, err = m.newAccounts(db); err != nil {
		_ = client.Disconnect(context.Background())
		return err
	}
	m.exec = graph.NewExecutor(&graph.Resolver{
		Members:          m.members,
		Auth:             m.auth,
		Inbox:            m.inbox,
		Game:             m.game,
		Rooms:            m.game.Rooms(),
		Texts:            m.texts,
		EventService:     m.events,
		RSVPs:            m.rsvps,
		AttendeeService:  m.attendees,
		Community:        m.community,
		AnalyticsService: m.analytics,
		Till:             m.till,
		WebhookService:   m.webhooks,
		Accounts:         m.accounts,
		Push:             m.push,
		ReviewQueue:      reviewlive.New(m.community.Moderation(), moderation.New(db), m.poll(reviewQueuePoll), queueSignals),
		OfferWatch:       offerlive.New(m.game.Offers(), m.poll(offerProgressPoll), offerSignals),
	}, graph.Limits{
		Depth: cfg.QueryMaxDepth, Complexity: cfg.QueryMaxCost, Introspection: cfg.Introspection, Document: cfg.Document,
	})
	m.gate = &gateway.Gateway{Exec: m.exec, Members: m.auth, ServiceAPIKeys: cfg.ServiceAPIKeys, MaxBodyBytes: cfg.MaxBodyBytes,
		Introspection: cfg.Introspection, Proxies: edge.ParseProxies(cfg.TrustedProxies),
		IPLimit: edge.NewLimiter(cfg.IPRate, cfg.IPBurst), MemberLimit: edge.NewLimiter(cfg.MemberRate, cfg.MemberBurst),
		Metrics: m.metrics, Database: m.dbHealth, Ended: &m.endedSessions}
	m.downloads = &downloads.Routes{Events: m.events, RSVPs: m.rsvps, Attendees: m.attendees, Members: m.members, Analytics: m.analytics, Accounts: m.accounts, Ended: &m.endedSessions}
	m.sockets = m.newHub()
	m.app = m.newApp()

	m.ln, err = net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		_ = client.Disconnect(context.Background())
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	if cfg.SocketSendBuffer > 0 {
		m.ln = edge.SendBuffer(m.ln, cfg.SocketSendBuffer)
	}
	m.ln = edge.LimitConns(m.ln, cfg.HTTPMaxConnsPerIP, m.gate.Proxies)
	go func() { m.served <- m.app.Listener(m.ln) }()
	slog.Info("listening", "addr", m.Addr(), "env", cfg.Env)

	retryCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.stopRetry = cancel
	m.background.Go(func() { m.connectDatabase(retryCtx) })
	m.background.Go(func() { m.dbHealth.Watch(retryCtx, m.mongo, m.ready.Load) })
	m.background.Go(func() { m.runJobs(retryCtx, db.Collection("jobs")) })
	m.background.Go(func() { m.broker.Run(retryCtx) })
	m.background.Go(func() { m.watchSessions(retryCtx) })
	m.background.Go(func() { m.events.Poll(retryCtx, m.crossPoll()) })
	m.background.Go(func() { m.community.Feed().Poll(retryCtx, m.crossPoll()) })
	m.background.Go(func() { m.runWebhooks(retryCtx, db) })
	m.background.Go(func() { m.runPush(retryCtx) })
	if cfg.SeedDemo {
		m.background.Go(func() { m.runDemo(retryCtx) })
	} else {
		close(m.demoDone)
	}
	return nil
}

// runDemo seeds the demo data once the database is ready.
func (m *Main) runDemo(ctx context.Context) {
	defer close(m.demoDone)
	select {
	case <-m.readyCh:
	case <-ctx.Done():
		return
	}
	out := m.DemoOut
	if out == nil {
		out = os.Stdout
	}
	start := time.Now()
	added, err := demo.Seed(ctx, demo.Services{DB: m.mongo.Database(m.Config.MongoDatabase), Members: m.members, Auth: m.auth, Game: m.game, Inbox: m.inbox, Community: m.community}, out, m.demoKey, m.Addr())
	if m.demoErr = err; err != nil {
		if ctx.Err() == nil {
			slog.Error("demo seeding stopped; run again to finish it", "err", err)
		}
		return
	}
	if added {
		slog.Info("demo data added", "took", time.Since(start).Round(time.Millisecond).String())
	}
}

// notificationPoll is how often an instance looks for notifications that
// other instances stored, which bounds cross-instance delivery latency.
const notificationPoll = 250 * time.Millisecond

// embeddedPoll replaces notificationPoll on the embedded database, where
// this process is the only instance: it holds DATA_DIR's lock, so no other
// instance can store anything. Every notification, thread post and event
// change stored here is published here as it is stored; a poll can only
// find one whose write was acknowledged late or never (a timeout), and the
// broker's sweep (a look two minutes back every 30 s) finds those whatever
// the interval. Each poll there is a scan of its whole collection (the
// embedded database uses no index but _id's), and after an offer to 1,000
// members the notifications' scan, four times a second, took most of the
// database's one connection (BENCHMARKS.md, "Load test").
const embeddedPoll = 5 * time.Second

// crossPoll is how often this instance polls for notifications, thread
// posts and event changes stored by others: notificationPoll, or
// embeddedPoll on the embedded database.
func (m *Main) crossPoll() time.Duration { return m.embeddedOr(notificationPoll) }

// embeddedOr is interval, or embeddedPoll on the embedded database (see
// there): for loops that look for what another instance did, or that an
// event here does not wake.
func (m *Main) embeddedOr(interval time.Duration) time.Duration {
	if m.embedded != nil {
		return max(interval, embeddedPoll)
	}
	return interval
}

// poll is interval, or livePoll when a test set it.
func (m *Main) poll(interval time.Duration) time.Duration {
	if m.livePoll > 0 {
		return m.livePoll
	}
	return interval
}

// reviewQueuePoll is how often a reviewQueueChanged watch reads its
// space's queue (one index range read of at most 100 items).
const reviewQueuePoll = time.Second

// runJobs runs the periodic jobs (runJobsOnce) until ctx ends, on one
// instance at a time: a lease of three intervals, woken early by queued
// work. It starts once the database is ready and demo seeding ended.
func (m *Main) runJobs(ctx context.Context, coll *mongo.Collection) {
	// After demo seeding too: on the embedded database the jobs' scans
	// would share its one connection with the seeding and slow both; the
	// first round then catches up at once.
	for _, ch := range []<-chan struct{}{m.readyCh, m.demoDone} {
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
	jobs.Periodic{
		Lease:    lease.New(coll.Database().Collection("leases"), "periodic", jobs.Holder(), 3*m.Config.JobInterval, time.Now),
		Interval: m.Config.JobInterval,
		Kicks:    []<-chan struct{}{m.game.Jobs().Kicked(), m.events.Kicked()},
		Round:    func(ctx context.Context, stillHeld func() bool) { m.runJobsOnce(ctx, coll, stillHeld) },
		Observe:  m.jobRound,
	}.Run(ctx)
}

// runJobsOnce runs each periodic job once. A job cut short by shutdown is
// not an error: every job resumes where it stopped.
func (m *Main) runJobsOnce(ctx context.Context, jobs *mongo.Collection, stillHeld func() bool) {
	logJob := func(name string, n int64, err error) {
		switch {
		case err != nil && ctx.Err() == nil:
			slog.Error("job: "+name, "err", err)
		case err == nil && n > 0:
			slog.Info("job: "+name, "count", n)
		}
	}
	n, err := m.game.Jobs().ExpirePoints(ctx, jobs)
	logJob("expire points", int64(n), err)
	n, err = m.game.Engagement().BackfillBadges(ctx, 500)
	logJob("backfill badges", int64(n), err)
	n64, err := m.inbox.Cleanup(ctx, 0)
	logJob("delete old notifications", n64, err)
	n64, err = m.push.Cleanup(ctx)
	logJob("delete old push deliveries", n64, err)
	n64, err = m.auth.PruneSessionEvents(ctx, time.Now().Add(-time.Hour))
	logJob("delete old session events", n64, err)
	n, err = m.game.Rewards().SweepRedemptions(ctx)
	logJob("sweep abandoned redemptions", int64(n), err)
	n, err = m.game.Rewards().ExpireRedemptions(ctx, 500)
	logJob("expire unfulfilled reward codes and refund them", int64(n), err)
	n, err = m.game.Rewards().AnnounceFulfilments(ctx, 500)
	logJob("announce fulfilments a failure left unannounced", int64(n), err)
	n, err = m.game.Offers().AnnounceCouponRedemptions(ctx, 500)
	logJob("announce coupon uses a failure left unannounced", int64(n), err)
	n, err = m.game.Leaderboards().Repair(ctx)
	logJob("repair leaderboards", int64(n), err)
	n, err = m.game.Jobs().ResumeEffects(ctx, time.Minute)
	logJob("resume pending activity effects", int64(n), err)
	n, err = m.rsvps.Jobs().Repair(ctx, rsvp.RepairGrace)
	logJob("events: settle RSVPs a failure left half-done", int64(n), err)
	n, err = m.rsvps.Jobs().ExpireOffers(ctx)
	logJob("events: pass on lapsed seat offers", int64(n), err)
	n, err = m.rsvps.Jobs().MarkNoShows(ctx)
	logJob("events: mark no-shows", int64(n), err)
	n, err = m.attendees.Remind(ctx)
	logJob("events: reminders", int64(n), err)
	n, err = m.rsvps.Jobs().RefundCancelled(ctx)
	logJob("events: refunds of cancelled events", int64(n), err)
	n, err = m.community.RecountReactions(ctx)
	logJob("community: repair drifted reaction counts", int64(n), err)
	n, err = m.accounts.ResumeDeletions(ctx)
	logJob("accounts: finish deletions cut short", int64(n), err)
	n, err = m.accounts.BuildPending(ctx)
	logJob("accounts: build pending data exports", int64(n), err)
	n64, err = m.accounts.Cleanup(ctx)
	logJob("accounts: delete expired data exports", n64, err)
	// Fencing: a holder that stalled past its lease stops before the
	// campaigns, the longest job.
	if !stillHeld() {
		return
	}
	host, _ := os.Hostname()
	n, err = m.game.Rules().RunSimulations(ctx, fmt.Sprintf("%s/%d", host, os.Getpid()))
	logJob("earning rules: dry runs", int64(n), err)
	n, err = m.game.Offers().PublishOffers(ctx, 500)
	logJob("publish offers", int64(n), err)
	n, err = m.events.Announce(ctx, 500)
	logJob("events: announce published events", int64(n), err)
	n, err = m.game.Rooms().Campaigns.Run(ctx, m.members)
	logJob("campaigns", int64(n), err)
	// The analytics rollups come last: they read what the jobs above wrote.
	if !stillHeld() {
		return
	}
	n, err = m.analytics.Refresh(ctx)
	logJob("analytics rollups (members recomputed)", int64(n), err)
}

// sessionPoll is how often an instance looks for sessions that ended, which
// bounds how long a socket outlives its session on another instance. On
// the embedded database it is embeddedPoll: there is no other instance,
// and a session ended here is applied here at once (SetSessionsEnded).
const sessionPoll = time.Second

// sessionOverlap is how far back each look for session events reaches
// again: events written a little late, or by an instance whose clock is
// behind, are still seen. Each is applied once.
const sessionOverlap = 5 * time.Second

// watchSessions closes this instance's sockets whose session ended on any
// instance (log-out, revocation, a change of roles), polling the session
// events as the broker polls notifications: no change streams needed.
func (m *Main) watchSessions(ctx context.Context) {
	select {
	case <-m.readyCh:
	case <-ctx.Done():
		return
	}
	t := time.NewTicker(m.embeddedOr(sessionPoll))
	defer t.Stop()
	// Sessions ended up to an access token's lifetime ago still have live
	// tokens, which HTTP requests must see refused too.
	since := time.Now().Add(-m.Config.AccessTokenTTL)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		evs, err := m.auth.SessionEventsSince(ctx, since)
		if err != nil {
			if ctx.Err() == nil {
				slog.Warn("sessions: poll for ended sessions", "err", err)
			}
			continue
		}
		for _, ev := range evs {
			if _, done := m.appliedSessions.LoadOrStore(ev.ID, ev.At); !done {
				m.endedSessions.Add(ev, m.Config.AccessTokenTTL)
				m.sockets.EndSessions(ev)
			}
		}
		since = now.Add(-sessionOverlap)
		m.appliedSessions.Range(func(id, at any) bool {
			if at.(time.Time).Before(since) {
				m.appliedSessions.Delete(id)
			}
			return true
		})
	}
}

// connectDatabase waits for MongoDB with backoff, then ensures indexes.
func (m *Main) connectDatabase(ctx context.Context) {
	wait := 500 * time.Millisecond
	for {
		err := m.dbHealth.Ping(ctx, m.mongo)
		if err == nil {
			err = m.ensureIndexes(ctx)
		}
		if err == nil {
			m.ready.Store(true)
			close(m.readyCh)
			slog.Info("mongodb ready", "database", m.Config.MongoDatabase)
			return
		}
		slog.Warn("mongodb not ready; retrying", "in", wait.String(), "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
}

func (m *Main) ensureIndexes(ctx context.Context) error {
	for _, ensure := range []func(context.Context) error{
		m.members.EnsureIndexes,
		m.auth.EnsureIndexes,
		m.inbox.EnsureIndexes,
		m.game.EnsureIndexes,
		m.events.EnsureIndexes,
		m.rsvps.EnsureIndexes,
		m.community.EnsureIndexes,
		m.analytics.EnsureIndexes,
		m.till.EnsureIndexes,
		m.webhooks.EnsureIndexes,
		m.accounts.EnsureIndexes,
		m.push.EnsureIndexes,
	} {
		if err := ensure(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Close shuts down gracefully: sockets drain and close with 1001, in-flight
// requests finish, then the database connection closes.
func (m *Main) Close() error {
	var err error
	m.closeOnce.Do(func() {
		deadline := time.Now().Add(m.Config.ShutdownTimeout)
		m.stopRetry()
		m.sockets.CloseAll(deadline)
		m.background.Wait()
		// Each step's error names the step: a shutdown that overran says which.
		if e := m.app.ShutdownWithTimeout(time.Until(deadline)); e != nil {
			err = fmt.Errorf("http shutdown (%s after the background work stopped): %w", m.Config.ShutdownTimeout-time.Until(deadline), e)
		}
		m.accounts.Wait() // emails and exports under way
		// The effects of activities answered first; what the deadline
		// cuts stays pending for the resume job of the next start.
		dctx, dcancel := context.WithDeadline(context.Background(), deadline.Add(5*time.Second))
		m.game.Close(dctx)
		dcancel()
		if e := <-m.served; e != nil && !errors.Is(e, net.ErrClosed) {
			err = errors.Join(err, e)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if e := m.mongo.Disconnect(ctx); e != nil {
			err = errors.Join(err, fmt.Errorf("mongodb disconnect: %w", e))
		}
		// Last: the embedded database outlives every request and job that
		// could still write to it.
		if m.embedded != nil {
			err = errors.Join(err, m.embedded.Close())
		}
	})
	return err
}

// devServiceKeyFile holds the service API key of a development server on
// the embedded database when SERVICE_API_KEYS is empty.
const devServiceKeyFile = "service-api-key"

// devServiceKey reads the development service key kept in dir, making one
// the first time. The embedded database (development only) lives in dir
// too, so the key lasts as long as the data it opens.
func devServiceKey(dir string) (string, error) {
	path := filepath.Join(dir, devServiceKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		if key := strings.TrimSpace(string(b)); len(key) >= config.MinServiceKey {
			return key, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("development service key: %w", err)
	}
	key := "dev-" + rand.Text()
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("development service key: %w", err)
	}
	return key, nil
}

// offerProgressPoll is how often an offerProgress watch reads its offer
// (one read by _id).
const offerProgressPoll = time.Second
