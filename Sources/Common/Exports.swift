// The services import only Common; the protocol types they use (JSON, Envelope, codes) come with it.
@_exported import Wire
