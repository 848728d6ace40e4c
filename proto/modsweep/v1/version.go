package modsweepv1

// ProtocolVersion is the wire protocol version that agents and the
// coordinator must share. Raise it on any change that an older peer would
// misread.
const ProtocolVersion = 1
