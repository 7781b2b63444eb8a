import Common

/// session-buddy (port 8688): sessions, knowledge captures and checkpoints.
///
/// The Python reference never defined these payloads; the shapes below are ours (docs/services/session-buddy.md).
/// Note that the welcome frame is also named `session.created` (room null); session events always carry a room.
@main
enum SessionBuddy {
    static func main() async { await ServiceMain.run(definition()) }

    static let session: ChannelPattern = "session:{session_id}"
    static let knowledge: ChannelPattern = "knowledge:{session_id}"
    static let checkpoint: ChannelPattern = "checkpoint:{session_id}"
    static let global: ChannelPattern = "global"
    static let skills: ChannelPattern = "skills"
    static let collab: ChannelPattern = "collab:{session_id}"

    static let channels: [ChannelSpec] = [
        ChannelSpec(session, permission: "session-buddy:read", "Lifecycle of one session"),
        ChannelSpec(knowledge, permission: "session-buddy:read", "Knowledge captured and searched in one session"),
        ChannelSpec(checkpoint, permission: "session-buddy:read", "Checkpoints of one session"),
        ChannelSpec(global, permission: "session-buddy:read", "System-wide announcements"),
        ChannelSpec(
            skills, permission: "session-buddy:read", "Skill invocations and anomalies (also the metrics stream on 8765)"),
        ChannelSpec(
            collab, permission: "session-buddy:read", presence: .members, clientsPublish: true,
            "Editing one session together: its members publish edits and cursors to each other, and see who is there"),
    ]

    enum Events {
        static let sessionCreated = EventSpec(
            "session.created", in: session,
            [
                .init("session_id", .string), .init("project", .string, required: false),
                .init("user_id", .string, required: false),
            ],
            "A session started")
        static let sessionUpdated = EventSpec(
            "session.updated", in: session, [.init("session_id", .string), .init("changes", .object)],
            "Fields of a session changed")
        static let sessionCheckpoint = EventSpec(
            "session.checkpoint", in: session,
            [
                .init("session_id", .string), .init("checkpoint_id", .string),
                .init("quality_score", .number, required: false),
            ],
            "The session took a checkpoint")
        static let sessionClosed = EventSpec(
            "session.closed", in: session, [.init("session_id", .string), .init("reason", .string, required: false)],
            "A session ended")
        static let knowledgeCaptured = EventSpec(
            "knowledge.captured", in: knowledge,
            [
                .init("session_id", .string), .init("capture_id", .string), .init("content", .string),
                .init("tags", .array, required: false),
            ],
            "A piece of knowledge was captured")
        static let knowledgeSearchResult = EventSpec(
            "knowledge.search_result", in: knowledge,
            [.init("session_id", .string), .init("query", .string), .init("results", .array)],
            "Results of a knowledge search")
        static let checkpointCreated = EventSpec(
            "checkpoint.created", in: checkpoint,
            [.init("session_id", .string), .init("checkpoint_id", .string), .init("summary", .string, required: false)],
            "A checkpoint was written")
        static let checkpointRestored = EventSpec(
            "checkpoint.restored", in: checkpoint, [.init("session_id", .string), .init("checkpoint_id", .string)],
            "A session was restored from a checkpoint")

        static let skillInvoked = EventSpec(
            "skill.invoked", in: skills,
            [
                .init("skill_name", .string), .init("completed", .boolean, required: false),
                .init("duration_seconds", .number, required: false), .init("session_id", .string, required: false),
            ],
            "A skill ran (`completed` defaults to true); counted in the metrics stream's `top_skills`")
        static let skillAnomaly = EventSpec(
            "skill.anomaly", in: skills,
            [
                .init("skill_name", .string), .init("anomaly_type", .string), .init("deviation_score", .number),
                .init("detected_at", .string, required: false),
            ],
            "A skill's performance deviated; listed in the metrics stream's `anomalies` for an hour")

        static let collabEdit = EventSpec(
            "collab.edit", in: collab,
            [
                .init("ops", .array), .init("version", .integer, required: false),
                .init("session_id", .string, required: false),
            ],
            "A collaborator's edit to the session's shared document, sent by one client to the others")
        static let collabCursor = EventSpec(
            "collab.cursor", in: collab,
            [.init("position", .object), .init("session_id", .string, required: false)],
            "A collaborator's cursor or selection moved")

        static let all = [
            sessionCreated, sessionUpdated, sessionCheckpoint, sessionClosed, knowledgeCaptured, knowledgeSearchResult,
            checkpointCreated, checkpointRestored, skillInvoked, skillAnomaly, collabEdit, collabCursor,
        ]
    }

    static func definition(state: SessionState = SessionState(), skills: SkillMetrics = SkillMetrics()) -> ServiceDefinition {
        let watchers = SessionWatchers(state: state)
        var definition = ServiceDefinition(
            name: "session-buddy", environmentPrefix: "SESSION_BUDDY", defaultPort: 8688,
            welcomeMessage: "Connected to Session-Buddy session tracking",
            channels: channels, events: Events.all,
            requests: [
                RequestSpec(
                    "get_session_status", parameters: [.init("session_id", .string)],
                    "`{session_id, status, project, user_id, created_at, updated_at, checkpoints, last_checkpoint_id, "
                        + "knowledge_captures, closed_reason}` from the session's events; `status` is `active` or "
                        + "`closed` (`not_found` for an unknown session)",
                    handler: state.sessionStatus),
                RequestSpec(
                    "get_session_watchers", parameters: [.init("session_id", .string)],
                    "`{session_id, count, watchers: [{connection_id, user_id}], users}`: the connections in the session's "
                        + "`session:` or `collab:` room on this instance",
                    handler: watchers.watchers),
            ],
            observers: [state.observe, skills.observe])
        definition.hooks = watchers.hooks
        definition.metricsStream = MetricsStreamSpec { context in MetricsStreamProtocol(metrics: skills, context: context) }
        return definition
    }
}
