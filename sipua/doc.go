// Package sipua is the SIP user agent of msrpcat call and answer: it
// places calls (INVITE with an SDP offer, Digest authentication on 401
// and 407, ACK, BYE, CANCEL when the ring time runs out), answers them
// (180, 200 with an SDP answer, waiting for the ACK, rejections with a
// Warning), and registers an address-of-record (REGISTER with Digest,
// refreshed before it expires, removed on Close).
//
// The SIP stack underneath is github.com/emiago/sipgo; none of its types
// appear in this package's API, so another stack could take its place.
// Every step is bounded: Config.Timeout bounds each transaction and the
// wait for an ACK, InviteOptions.RingTimeout the wait for an answer.
//
// Logging: the "sip" logger of Config.LoggerFactory gets one Info line
// per SIP step, and at Trace level every SIP message received and every
// one this package sends (sipgo's own automatic 100 Trying, 487 and
// retransmissions are not shown). sipgo's own log goes to the "sipgo"
// logger.
//
// Concurrency: all methods are safe for concurrent use. Config.OnInvite
// runs on a goroutine of its own per INVITE and must answer it (Accept or
// Reject) before it returns; the INVITE transaction lives until then.
package sipua
