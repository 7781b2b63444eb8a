import Hummingbird
import NIOCore

/// `POST /api/events`: producers that speak HTTP. With auth on they need `X-API-Key` or a bearer token with
/// `publish` (or admin) rights.
struct PublishRoute: RouteGroup {
    let service: String
    let publisher: Publisher
    let authenticator: Authenticator?
    let maxBodySize: Int
    let group: any EventLoopGroup

    func add(to router: Router<BasicRequestContext>) {
        router.post("/api/events") { request, _ in
            if let refusal = await refuseUnauthorized(request) { return refusal }
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: maxBodySize)
            } catch {
                return HTTPReply.error(.contentTooLarge, .messageTooLarge, "Body larger than \(maxBodySize) bytes")
            }
            return await publish(body)
        }
    }

    private func refuseUnauthorized(_ request: Request) async -> Response? {
        guard let authenticator else { return nil }
        do {
            guard let identity = try await HTTPReply.presentedIdentity(request, authenticator) else {
                return HTTPReply.error(
                    .unauthorized, .authRequired, "Publishing needs X-API-Key or Authorization: Bearer <token>")
            }
            guard identity.mayPublish(service: service) else {
                return HTTPReply.error(
                    .forbidden, .forbidden, "Not authorized to publish: needs an API key or the 'publish' permission")
            }
            return nil
        } catch {
            return HTTPReply.error(.unauthorized, error.code, error.message)
        }
    }

    /// `POST /api/events` with `{room, event, data}`, or an array of them (a batch: each item checked on its
    /// own, the valid ones delivered in order, a result per item; see `publishBatch`).
    private func publish(_ body: ByteBuffer) async -> Response {
        let document: JSONValue
        do {
            document = try JSONParser.parse(body)
        } catch {
            return HTTPReply.error(.badRequest, .decodeError, error.description)
        }
        if case .array(let items) = document {
            do {
                return HTTPReply.json(try await publisher.publishBatch(items, resultOn: group.any()).get())
            } catch {
                let failure = error as? ProtocolError ?? ProtocolError(.internalError, "\(error)")
                return HTTPReply.error(.unprocessableContent, failure.code, failure.message)
            }
        }
        do {
            let event = try Publisher.parseEvent(document)
            let subscribers = try await publisher.publish(event, resultOn: group.any()).get()
            return HTTPReply.json([
                "status": "published", "event": event.event.map(JSONValue.string) ?? .null,
                "room": .string(event.room), "subscribers": JSONValue(subscribers),
            ])
        } catch {
            let error = Publisher.failure(error)
            let status: HTTPResponse.Status =
                switch error.code {
                case .decodeError: .badRequest
                case .brokerUnavailable: .serviceUnavailable
                case .internalError: .internalServerError
                default: .unprocessableContent
                }
            return HTTPReply.error(status, error.code, error.message)
        }
    }
}
