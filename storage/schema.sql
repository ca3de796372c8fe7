-- pmbot's current schema, for readers. storage/migrate.c is the source of
-- truth; tests/test_store.c checks that migrating an empty database gives
-- exactly these tables. All times are UTC epoch milliseconds.

CREATE TABLE incidents (
    id           INTEGER PRIMARY KEY,
    title        TEXT    NOT NULL,
    severity     INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 4),
    state        TEXT    NOT NULL DEFAULT 'open'
                         CHECK (state IN ('open', 'resolved')),
    platform     TEXT    NOT NULL,
    channel      TEXT,
    channel_name TEXT,
    origin_room  TEXT,
    declared_by  TEXT,
    alarm_key    TEXT,
    declared_at  INTEGER NOT NULL,
    resolved_at  INTEGER,
    root_cause   TEXT,
    alarm_details TEXT,
    alarm_link   TEXT,
    UNIQUE (platform, channel)
);

CREATE INDEX incidents_by_alarm ON incidents (alarm_key, state);

CREATE INDEX incidents_by_resolved ON incidents (resolved_at)
    WHERE state = 'resolved';

CREATE TABLE timeline (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL
                        CHECK (kind IN ('auto', 'tagged', 'note', 'backfill')),
    text        TEXT    NOT NULL,
    msg_room    TEXT,
    msg_id      TEXT,
    author      TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (incident_id, msg_room, msg_id)
);

CREATE INDEX timeline_by_incident ON timeline (incident_id, at, id);

CREATE TABLE timeline_taggers (
    entry_id INTEGER NOT NULL REFERENCES timeline (id) ON DELETE CASCADE,
    user     TEXT    NOT NULL,
    PRIMARY KEY (entry_id, user)
) WITHOUT ROWID;

CREATE TABLE timeline_history (
    id          INTEGER PRIMARY KEY,
    entry_id    INTEGER NOT NULL REFERENCES timeline (id) ON DELETE CASCADE,
    text        TEXT    NOT NULL,
    replaced_at INTEGER NOT NULL
);

CREATE TABLE actions (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id),
    text         TEXT    NOT NULL,
    assignee     TEXT    NOT NULL,
    due_date     TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'open'
                         CHECK (status IN ('open', 'done')),
    created_by   TEXT,
    created_at   INTEGER NOT NULL,
    completed_at INTEGER,
    completed_by TEXT,
    snoozed_until TEXT -- YYYY-MM-DD: the weekly reminder leaves it out until then
);

CREATE INDEX actions_by_incident ON actions (incident_id, id);

-- every change of an action: who, when, what (detail: the new assignee,
-- date, or snooze end)
CREATE TABLE action_history (
    id        INTEGER PRIMARY KEY,
    action_id INTEGER NOT NULL REFERENCES actions (id),
    at        INTEGER NOT NULL,
    by        TEXT,
    what      TEXT    NOT NULL CHECK (what IN ('created', 'done', 'reopened',
                                               'reassigned', 'due', 'snoozed')),
    detail    TEXT
);

CREATE INDEX action_history_by_action ON action_history (action_id, id);

CREATE TABLE answers (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    question    TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    answer      TEXT    NOT NULL,
    answered_by TEXT,
    answered_at INTEGER NOT NULL,
    PRIMARY KEY (incident_id, question, seq)
);

CREATE TABLE processed_events (
    platform     TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (platform, event_id)
);

CREATE INDEX processed_events_by_age ON processed_events (processed_at);

-- a reminder claimed for its period (kind: weekly, an assignee's local
-- ISO week; overdue, an action's overdue week; monthly, a month), written
-- in the transaction of the outbox row that sends it: once per period
CREATE TABLE reminder_periods (
    kind       TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    period     TEXT    NOT NULL,
    claimed_at INTEGER NOT NULL,
    PRIMARY KEY (kind, subject, period)
) WITHOUT ROWID;

CREATE TABLE messages (
    platform  TEXT    NOT NULL,
    room      TEXT    NOT NULL,
    msg_id    TEXT    NOT NULL,
    user      TEXT,
    text      TEXT    NOT NULL,
    thread_id TEXT,
    at        INTEGER NOT NULL,
    PRIMARY KEY (platform, room, msg_id)
);

CREATE TABLE users (
    platform   TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    tz         TEXT, -- the user's time zone (tz database name), if known
    PRIMARY KEY (platform, user_id)
) WITHOUT ROWID;

-- what the bot will do on a platform, written with the change that caused
-- it and performed after the commit (kind: bot/outbox.c's enum outbox_kind;
-- state 0 pending, 1 done, 2 failed). The id is the idempotency key.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    platform   TEXT    NOT NULL,
    kind       INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 7),
    room       TEXT,
    thread_id  TEXT,
    user       TEXT,
    flags      INTEGER NOT NULL DEFAULT 0,
    ref        INTEGER,
    msg_id     TEXT,
    body       TEXT    NOT NULL,
    extra      TEXT,
    state      INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    done_at    INTEGER
);

-- a lane is a room, or a user's DM: its first pending row is found by
-- an index search per platform (storage/store.c ST_OUTBOX_PENDING)
CREATE INDEX outbox_lanes ON outbox
    (platform, coalesce(room, '@' || coalesce(user, '')), id)
    WHERE state = 0;

CREATE INDEX outbox_by_age ON outbox (done_at) WHERE state <> 0;

-- a post about something people answer with a reaction (extra
-- "about:ACT-3", a weekly reminder's line): found by its message
CREATE INDEX outbox_about ON outbox (platform, msg_id)
    WHERE extra LIKE 'about:%';

-- the scheduler: one row per duty and period (state 0 due, 1 done)
CREATE TABLE jobs (
    kind    TEXT    NOT NULL,
    subject INTEGER NOT NULL,
    period  TEXT    NOT NULL,
    due_at  INTEGER NOT NULL,
    state   INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1)),
    done_at INTEGER,
    PRIMARY KEY (kind, subject, period)
) WITHOUT ROWID;

CREATE INDEX jobs_due ON jobs (due_at) WHERE state = 0;

-- who leads (0 commander), takes notes (1 scribe), talks to the outside
-- (2 comms); how: 0 declared it, 1 [pmbot] default_commander, 2 the first
-- responder who wrote in the channel, 3 handed over with /incident role
CREATE TABLE roles (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    role        INTEGER NOT NULL CHECK (role BETWEEN 0 AND 2),
    user        TEXT    NOT NULL,
    how         INTEGER NOT NULL CHECK (how BETWEEN 0 AND 3),
    since       INTEGER NOT NULL,
    PRIMARY KEY (incident_id, role)
) WITHOUT ROWID;

-- the blameless review (include/review.h): state 0 running, 1 stopped,
-- 2 done; step an enum review_step; thread_row the outbox row of the
-- parent message whose thread holds the questions, thread_id that
-- message's id once it is known; full_done 1 once the whole questionnaire
-- (not only /pm layers) has been through; found NULL unanswered,
-- 0 production, 1 pre-production, 2 earlier; applied, caught (answered
-- yes), asked (answered) masks of the eight layers; skipped a mask of
-- steps; accepted a mask of the verdict's proposals (NULL unanswered);
-- root_action the action an `unknown` root cause made
CREATE TABLE reviews (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents (id),
    state       INTEGER NOT NULL CHECK (state BETWEEN 0 AND 2),
    step        INTEGER NOT NULL,
    layers_only INTEGER NOT NULL DEFAULT 0,
    thread_row  INTEGER,
    thread_id   TEXT,
    full_done   INTEGER NOT NULL DEFAULT 0,
    found       INTEGER CHECK (found BETWEEN 0 AND 2),
    applied     INTEGER,
    caught      INTEGER NOT NULL DEFAULT 0,
    asked       INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    accepted    INTEGER,
    root_action INTEGER,
    started_by  TEXT,
    started_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- what a platform keeps between runs, by key (Matrix: since, the /sync
-- position; user_id, device_id; access_token only when it came from a
-- password login; txn_nonce, which keeps send txnIds unique to this
-- database)
CREATE TABLE platform_state (
    platform   TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (platform, key)
) WITHOUT ROWID;

-- reactions in incident rooms by their own id, for platforms whose
-- removal names only the reaction (a Matrix redaction); pruned after 400
-- days
CREATE TABLE reaction_refs (
    platform    TEXT    NOT NULL,
    reaction_id TEXT    NOT NULL,
    room        TEXT    NOT NULL,
    msg_id      TEXT    NOT NULL,
    emoji       TEXT    NOT NULL,
    user        TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (platform, reaction_id)
) WITHOUT ROWID;
CREATE INDEX reaction_refs_by_age ON reaction_refs (at);
