import Hummingbird
import NIOCore

/// `POST /api/events`, and the direct messages `POST /api/connections/{id}/events` and
/// `POST /api/users/{user_id}/events`: producers that speak HTTP. With auth on they need `X-API-Key` or a
/// bearer token with `publish` (or admin) rights.
struct PublishRoute: RouteGroup {
    let service: String
    let publisher: Publisher
    let authenticator: Authenticator?
    let maxBodySize: Int
    let group: any EventLoopGroup

    func add(to router: Router<BasicRequestContext>) {
        router.post("/api/events") { request, _ in
            switch await authorizedBody(request) {
            case .success(let (identity, body)): await publish(body, publisher: identity.publisher)
            case .failure(let refusal): refusal.response
            }
        }
        router.post("/api/connections/:id/events") { request, context in
            await direct(request, to: .connection(context.parameters.get("id") ?? ""))
        }
        router.post("/api/users/:user_id/events") { request, context in
            await direct(request, to: .user(context.parameters.get("user_id") ?? ""))
        }
    }

    /// A direct message: `{event, data}` for one connection, or every connection of a user on any instance;
    /// 404 with `NOT_FOUND` when nobody is there.
    private func direct(_ request: Request, to target: DirectTarget) async -> Response {
        let identity: Identity, body: ByteBuffer
        switch await authorizedBody(request) {
        case .success(let found): (identity, body) = found
        case .failure(let refusal): return refusal.response
        }
        let object: JSONObject
        do {
            guard case .object(let parsed) = try JSONParser.parse(body) else {
                return HTTPReply.error(.badRequest, .decodeError, "The body must be an object {event, data}")
            }
            object = parsed
        } catch {
            return HTTPReply.error(.badRequest, .decodeError, error.description)
        }
        do {
            let message = try Publisher.parseDirect(object, to: target, publisher: identity.publisher)
            let reached = try await publisher.publishDirect(message, resultOn: group.any()).get()
            return HTTPReply.json(["status": "delivered", target.key: .string(target.value), "connections": JSONValue(reached)])
        } catch {
            return Self.refusal(Publisher.failure(error))
        }
    }

    private struct Refusal: Error {
        let response: Response
    }

    /// The publisher and the request's body, or the refusal: see `publishingIdentity`, and 413 past the body limit.
    private func authorizedBody(_ request: Request) async -> Result<(Identity, ByteBuffer), Refusal> {
        let identity: Identity
        switch await publishingIdentity(request) {
        case .success(let found): identity = found
        case .failure(let refusal): return .failure(refusal)
        }
        do {
            return .success((identity, try await request.body.collect(upTo: maxBodySize)))
        } catch {
            return .failure(
                Refusal(response: HTTPReply.error(.contentTooLarge, .messageTooLarge, "Body larger than \(maxBodySize) bytes")))
        }
    }

    /// Who is publishing (anonymous with auth off), or the refusal: 401 without a valid credential, 403
    /// without the right to publish.
    private func publishingIdentity(_ request: Request) async -> Result<Identity, Refusal> {
        guard let authenticator else { return .success(.anonymous) }
        do {
            guard let identity = try await HTTPReply.presentedIdentity(request, authenticator) else {
                return .failure(
                    Refusal(
                        response: HTTPReply.error(
                            .unauthorized, .authRequired, "Publishing needs X-API-Key or Authorization: Bearer <token>")))
            }
            guard identity.mayPublish(service: service) else {
                let refusal = Publisher.notAllowed
                return .failure(Refusal(response: HTTPReply.error(.forbidden, refusal.code, refusal.message)))
            }
            return .success(identity)
        } catch {
            return .failure(Refusal(response: HTTPReply.error(.unauthorized, error.code, error.message)))
        }
    }

    /// `POST /api/events` with `{room, event, data}`, or an array of them (a batch: each item checked on its
    /// own, the valid ones delivered in order, a result per item; see `publishBatch`).
    private func publish(_ body: ByteBuffer, publisher stamp: String?) async -> Response {
        let document: JSONValue
        do {
            document = try JSONParser.parse(body)
        } catch {
            return HTTPReply.error(.badRequest, .decodeError, error.description)
        }
        if case .array(let items) = document {
            do {
                return HTTPReply.json(try await publisher.publishBatch(items, publisher: stamp, resultOn: group.any()).get())
            } catch {
                let failure = Publisher.failure(error)
                return HTTPReply.error(.unprocessableContent, failure.code, failure.message)
            }
        }
        do {
            let event = try Publisher.parseEvent(document, publisher: stamp)
            let subscribers = try await publisher.publish(event, resultOn: group.any()).get()
            return HTTPReply.json([
                "status": "published", "event": event.event.map(JSONValue.string) ?? .null,
                "room": .string(event.room), "subscribers": JSONValue(subscribers),
            ])
        } catch {
            return Self.refusal(Publisher.failure(error))
        }
    }

    /// A refused or failed publish, with the HTTP status its code maps to.
    private static func refusal(_ error: ProtocolError) -> Response {
        let status: HTTPResponse.Status =
            switch error.code {
            case .decodeError: .badRequest
            case .notFound: .notFound
            case .brokerUnavailable: .serviceUnavailable
            case .internalError: .internalServerError
            default: .unprocessableContent
            }
        return HTTPReply.error(status, error.code, error.message)
    }
}
