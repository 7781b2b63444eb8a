import Common

extension Mahavishnu {
    /// The rooms and events mahavishnu 0.36 broadcasts beyond workflows and pools: settle runs, goal teams,
    /// adapters, the symbiotic learning loop and cross-repo search (`mahavishnu/websocket/server.py`,
    /// `pools/websocket/broadcaster.py`, `mcp/tools/search_tools.py`). Names and fields are upstream's.
    enum Ecosystem {
        static let settle: ChannelPattern = "settle:{run_ref}"
        static let run: ChannelPattern = "run:{worker_id}"
        static let goalTeams: ChannelPattern = "goal-teams"
        static let userGoalTeams: ChannelPattern = "goal-teams:{user_id}"
        static let adapters: ChannelPattern = "adapters"
        static let symbiotic: ChannelPattern = "symbiotic:ecosystem"
        static let crossRepo: ChannelPattern = "cross-repo:{query_hash}"
        static let code: ChannelPattern = "code"

        // Upstream lets only admins subscribe to adapters, symbiotic:ecosystem and code; so do we when auth is on.
        static let channels: [ChannelSpec] = [
            ChannelSpec(settle, permission: "worker:read", "One settle run's state transitions"),
            ChannelSpec(run, permission: "worker:read", "The settle transitions of one worker's runs"),
            ChannelSpec(goalTeams, permission: "team:read", "Every goal team: creation, parsing, execution, errors"),
            ChannelSpec(userGoalTeams, permission: "team:read", "The goal teams of one user"),
            ChannelSpec(adapters, permission: "admin", "Adapter registry: registrations, health, routing, worker availability"),
            ChannelSpec(symbiotic, permission: "admin", "The learning loop: pattern, skill and strategy metrics"),
            ChannelSpec(crossRepo, permissions: ["cross_repo:read"], "Results of one cross-repo search (events without a name)"),
            ChannelSpec(code, permission: "admin", "Code events from the event bridge (`code.*`)"),
        ]

        static let settleFields: [FieldSpec] = [
            .init("run_ref", .string), .init("worker_id", .string), .init("from_state", .string),
            .init("to_state", .string), .init("phase", .string), .init("action", .string),
            .init("merge", .object, required: false),
        ]

        /// `adapter.enabled` and `adapter.disabled` carry the same fields.
        static let adapterToggle: [FieldSpec] = [
            .init("adapter_id", .string), .init("adapter_name", .string), .init("enabled", .boolean),
            .init("reason", .any, required: false),
        ]

        static let teamEvents: [EventSpec] = [goalTeams, userGoalTeams].flatMap { channel in
            [
                EventSpec(
                    "team.created", in: channel,
                    [.init("team_id", .string), .init("team_name", .string), .init("goal", .string), .init("mode", .string)],
                    "A goal team was formed"),
                EventSpec(
                    "team.parsed", in: channel,
                    [.init("goal", .string), .init("intent", .string), .init("skills", .array), .init("confidence", .number)],
                    "A goal was parsed into an intent and skills"),
                EventSpec(
                    "team.execution_started", in: channel, [.init("team_id", .string), .init("task", .string)],
                    "A team started a task"),
                EventSpec(
                    "team.execution_completed", in: channel,
                    [.init("team_id", .string), .init("success", .boolean), .init("duration_ms", .number)],
                    "A team finished a task"),
                EventSpec(
                    "team.error", in: channel,
                    [.init("team_id", .string), .init("error_code", .string), .init("message", .string)],
                    "A goal-team operation failed (`team_id` may be empty)"),
            ]
        }

        static let events: [EventSpec] =
            [
                .unnamed(
                    in: crossRepo,
                    [.init("event_type", .string), .init("channel", .string), .init("payload", .object)],
                    "A cross-repo search result (`event_type: cross_repo_search_result`), sent with `event: null`"),
                EventSpec("settle.transition", in: settle, settleFields, "A settle run changed state"),
                EventSpec("settle.transition", in: run, settleFields, "A settle run of this worker changed state"),
            ] + teamEvents + [
                EventSpec(
                    "adapter.registered", in: adapters,
                    [
                        .init("adapter_id", .string), .init("adapter_name", .string), .init("capabilities", .array),
                        .init("provider", .string), .init("source", .string),
                    ],
                    "An adapter joined the registry"),
                EventSpec(
                    "adapter.health_changed", in: adapters,
                    [
                        .init("adapter_id", .string), .init("adapter_name", .string), .init("old_status", .string),
                        .init("new_status", .string), .init("details", .object, required: false),
                    ],
                    "An adapter's health changed"),
                EventSpec("adapter.enabled", in: adapters, adapterToggle, "An adapter was enabled (`reason` may be null)"),
                EventSpec("adapter.disabled", in: adapters, adapterToggle, "An adapter was disabled (`reason` may be null)"),
                EventSpec(
                    "adapter.routing_decision", in: adapters,
                    [
                        .init("task_type", .string), .init("selected_adapter", .string), .init("capabilities_matched", .array),
                        .init("latency_ms", .number), .init("fallback_used", .boolean),
                    ],
                    "The router picked an adapter for a task"),
                EventSpec(
                    "worker.availability_changed", in: adapters,
                    [
                        .init("worker_type", .string), .init("state", .string), .init("reason_bucket", .string),
                        .init("probe_at", .string),
                    ],
                    "A worker type became available or not (upstream sends no timestamp; we add one)"),
                EventSpec(
                    "learning.metrics", in: symbiotic,
                    [
                        .init("patterns_strengthened", .integer), .init("patterns_weakened", .integer),
                        .init("model_retrains", .integer), .init("avg_confidence_score", .number),
                    ],
                    "Learning-loop counters"),
                EventSpec(
                    "skill.effectiveness", in: symbiotic,
                    [
                        .init("skill_name", .string), .init("success_rate", .number), .init("total_attempts", .integer),
                        .init("avg_confidence", .number),
                    ],
                    "How well one skill performs"),
                EventSpec(
                    "strategy.recommender", in: symbiotic,
                    [
                        .init("recommendations_made", .integer), .init("high_confidence_count", .integer),
                        .init("avg_success_rate", .number),
                    ],
                    "Strategy recommender counters"),
            ]
    }
}
