// llhttp's request test cases, run through our parser and chunked decoder as
// a server would: parse a head, read its body, go on to the next pipelined
// request.
//
// - Strict cases (meta type "request"): where llhttp accepts, we must see the
//   same method, target, fields and body, except for the deliberate
//   differences listed below, each with its reason. Where llhttp rejects, we
//   must reject at the same point: after the same number of complete
//   messages, in the head or the body as llhttp did. Not earlier, not later.
// - Lenient cases (meta type "request-lenient-*"): llhttp accepts them only
//   with an opt-in flag. We are strict, so each must be rejected, for the
//   reason and at the point listed in kLenientVerdicts (where strict llhttp
//   rejects), including the few that RFC 9112 would let a server accept.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string>
#include <vector>

#include "http/chunked_decoder.hpp"
#include "http/request_parser.hpp"
#include "llhttp_corpus.hpp"

namespace httpkit::http {
namespace {

using test::FieldList;
using test::LlhttpCase;
using test::LlhttpMessage;

const std::filesystem::path kCorpus = HTTPKIT_CORPUS_DIR;

// Cases llhttp accepts and we refuse, on purpose. (There are none the other
// way round.) One rule is not listed per case: llhttp does not require Host
// in HTTP/1.1, RFC 9112 §3.2 does; such requests are refused, and the runner
// then adds a Host line so the rest of the case can still be compared.
struct DeliberateDifference {
  std::string_view file, title, reason;
};
constexpr DeliberateDifference kDeliberateDifferences[] = {
    {"request/sample.md", "No HTTP version",
     "HTTP/0.9 simple requests are refused: RFC 9112 §3 requires an HTTP-version"},
    {"request/method.md", "SOURCE request with ICE",
     "ICE/1.0 (Icecast) is not HTTP; only HTTP/1.x is served"},
    {"request/method.md", "OPTIONS request with RTSP", "RTSP/1.0 is not HTTP"},
    {"request/method.md", "ANNOUNCE request with RTSP", "RTSP/1.0 is not HTTP"},
    {"request/transfer-encoding.md", "POST with `chunked` as last transfer-encoding",
     "`deflate, chunked`: transfer codings other than chunked are not implemented, so 501 "
     "(RFC 9112 §6.1 SHOULD; nginx does the same)"},
    {"request/transfer-encoding.md",
     "POST with `chunked` as last transfer-encoding (multiple headers)",
     "as above, with the codings in two Transfer-Encoding lines"},
};

const DeliberateDifference* deliberate_difference(const LlhttpCase& c) {
  for (const DeliberateDifference& d : kDeliberateDifferences) {
    if (d.file == c.file && d.title == c.title) return &d;
  }
  return nullptr;
}

// What our server makes of a case.
struct OurMessage {
  std::string method, target;
  FieldList headers;
  std::string body;
  uint8_t version_minor = 1;
  bool chunked = false;
  bool upgrade = false;
};

// Where a reader stopped in a case: after `completed` whole messages, in the
// head of the next one or (in_body) in its body, its head accepted.
struct StopPoint {
  std::size_t completed = 0;
  bool in_body = false;
  bool operator==(const StopPoint&) const = default;
};

std::ostream& operator<<(std::ostream& os, const StopPoint& s) {
  return os << "after " << s.completed << " complete message(s), in the "
            << (s.in_body ? "body" : "head") << " of the next";
}

struct OurRun {
  std::vector<OurMessage> messages;  // every head we accepted
  std::size_t completed = 0;         // messages read to their end
  bool rejected = false;
  std::string why;  // the parser's detail, or what the runner refused
  int host_lines_added = 0;

  StopPoint stop() const { return {completed, messages.size() > completed}; }
};

constexpr std::string_view kMissingHost = "HTTP/1.1 request without Host";
constexpr std::string_view kAddedHost = "Host: llhttp.test\r\n";

OurRun serve(std::string input) {
  OurRun run;
  std::size_t pos = 0;
  bool host_added_here = false;
  while (pos < input.size()) {
    std::array<HeaderField, 100> fields;
    RequestHead head;
    const ParseResult r = parse_request_head(std::string_view(input).substr(pos), ParseLimits{},
                                             fields.data(), fields.size(), head);
    if (r.status == ParseStatus::incomplete) return run;  // waiting for more
    if (r.status == ParseStatus::error) {
      if (r.detail == kMissingHost && !host_added_here) {
        const std::size_t line_end = input.find("\r\n", input.find_first_not_of("\r\n", pos));
        input.insert(line_end + 2, kAddedHost);
        host_added_here = true;
        ++run.host_lines_added;
        continue;
      }
      run.rejected = true;
      run.why = r.detail;
      return run;
    }

    OurMessage& m = run.messages.emplace_back();
    m.method = head.method;
    m.target = head.target;
    m.version_minor = head.version_minor;
    m.chunked = head.framing == BodyFraming::chunked;
    m.upgrade = head.upgrade;
    for (std::size_t i = host_added_here ? 1 : 0; i < head.num_headers; ++i) {
      m.headers.emplace_back(head.headers[i].name, head.headers[i].value);
    }
    host_added_here = false;
    pos += head.head_length;

    if (head.framing == BodyFraming::content_length) {
      const std::size_t available = std::min<uint64_t>(head.content_length, input.size() - pos);
      m.body = input.substr(pos, available);
      pos += available;
      if (available < head.content_length) return run;
    } else if (head.framing == BodyFraming::chunked) {
      std::string rest = input.substr(pos);
      ChunkedDecoder decoder;
      const ChunkedDecoder::Step step = decoder.decode(rest.data(), rest.size(), ChunkedLimits{});
      m.body = rest.substr(0, step.decoded);
      if (step.status == ChunkedStatus::bad || step.status == ChunkedStatus::too_large) {
        run.rejected = true;
        run.why = "chunked body refused";
        return run;
      }
      if (step.status == ChunkedStatus::more) return run;
      pos += step.consumed;
    }
    ++run.completed;
    // A server that did not switch protocols reads on as HTTP; one that
    // answered "Connection: close" reads nothing more.
    if (!head.keep_alive && pos < input.size()) {
      run.rejected = true;
      run.why = "data after Connection: close";
      return run;
    }
  }
  return run;
}

bool is_lenient(const LlhttpCase& c) {
  return c.type.starts_with("request-lenient-");
}

// Request cases of one kind. Pause and skipBody cases test llhttp's callback
// API, not the bytes; "request-finish" cases test its llhttp_finish() at EOF.
std::vector<LlhttpCase> request_cases(bool lenient) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus / "llhttp/request")) {
    if (entry.path().extension() == ".md") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<LlhttpCase> chosen;
  for (const auto& path : files) {
    for (LlhttpCase& c : test::read_llhttp_cases(path, "request/" + path.filename().string())) {
      if (c.pause || c.skip_body) continue;
      if (lenient ? is_lenient(c) : c.type == "request") chosen.push_back(std::move(c));
    }
  }
  return chosen;
}

std::vector<LlhttpCase> strict_request_cases() {
  return request_cases(false);
}

std::string name_of(const LlhttpCase& c) {
  return c.file + " / " + c.title;
}

// Where llhttp's log says it stopped in a case it rejected. An error right
// after "headers complete" with HPE_INVALID_TRANSFER_ENCODING is llhttp's
// own check of the head, made after the callback: a refusal of the head.
StopPoint llhttp_stop(const LlhttpCase& c) {
  StopPoint stop;
  std::size_t heads = 0;
  for (const LlhttpMessage& m : c.messages) {
    stop.completed += m.message_complete;
    heads += m.headers_complete;
  }
  const bool head_check =
      c.error_after_headers_complete && c.error_code == test::kInvalidTransferEncoding;
  stop.in_body = heads > stop.completed && !head_check;
  return stop;
}

// The head (and, where llhttp finished it, the body) of every message that
// llhttp got through the headers of.
void expect_same_messages(const LlhttpCase& c, const OurRun& ours) {
  std::size_t compared = 0;
  for (const LlhttpMessage& theirs : c.messages) {
    if (!theirs.headers_complete || compared == ours.messages.size()) break;
    const OurMessage& m = ours.messages[compared++];
    SCOPED_TRACE("message " + std::to_string(compared));
    EXPECT_EQ(m.method, theirs.method);
    EXPECT_EQ(m.target, theirs.url);
    EXPECT_EQ(m.headers, theirs.headers);
    EXPECT_EQ(theirs.version_major, 1);
    EXPECT_EQ(m.version_minor, theirs.version_minor);
    EXPECT_EQ(m.chunked, theirs.chunked);
    // A body both finished, or the part of one both are still reading. (A
    // lenient log may finish a body we refuse; the stop point covers that.)
    if ((theirs.message_complete && compared <= ours.completed) || !ours.rejected) {
      EXPECT_EQ(m.body, theirs.body);
    }
  }
}

struct Tally {
  int cases = 0, llhttp_accepts = 0, llhttp_rejects = 0, llhttp_hands_over = 0;
  int we_reject_as_llhttp = 0, same_stop = 0;
  int handovers_we_reject = 0, handovers_we_follow = 0;
  int connect_refused = 0, deliberate = 0, host_added = 0;
};

TEST(LlhttpCorpus, StrictRequestCases) {
  const std::vector<LlhttpCase> cases = strict_request_cases();
  ASSERT_FALSE(cases.empty()) << "no cases under " << kCorpus;
  Tally tally;
  for (const LlhttpCase& c : cases) {
    SCOPED_TRACE(name_of(c));
    ASSERT_EQ(c.span_mismatches, 0) << "misread the case markdown";
    ++tally.cases;
    const OurRun ours = serve(c.input);
    tally.host_added += ours.host_lines_added > 0;
    const DeliberateDifference* difference = deliberate_difference(c);

    if (c.error_code == test::kPausedUpgrade) {
      // llhttp stops at an Upgrade or CONNECT head to hand the connection
      // over. We refuse CONNECT (501: no tunnels from an origin server); an
      // Upgrade head must match and be flagged, and what follows it is read
      // as HTTP, as by a server whose handler does not switch protocols.
      ++tally.llhttp_hands_over;
      if (ours.why == "CONNECT is not served") {
        ++tally.handovers_we_reject;
        ++tally.connect_refused;
        // CONNECT is refused in its request line, after the messages before it.
        EXPECT_EQ(ours.stop(), (StopPoint{c.messages.size() - 1, false}));
      } else {
        // The head llhttp stopped at is ours too, flagged as an upgrade.
        ASSERT_GE(ours.messages.size(), c.messages.size());
        EXPECT_TRUE(ours.messages[c.messages.size() - 1].upgrade);
        EXPECT_GE(ours.completed, c.messages.size());
        ++(ours.rejected ? tally.handovers_we_reject : tally.handovers_we_follow);
      }
      expect_same_messages(c, ours);
    } else if (c.error_code) {
      ++tally.llhttp_rejects;
      EXPECT_EQ(difference, nullptr) << "llhttp rejects this; we may not accept it on purpose";
      EXPECT_TRUE(ours.rejected) << "llhttp: " << c.error_reason;
      tally.we_reject_as_llhttp += ours.rejected;
      // Rejecting too early would refuse requests that are fine; too late
      // (or waiting for more) would serve what llhttp saw as an attack. No
      // case needs an exception: every rejection comes where llhttp's does.
      EXPECT_EQ(ours.stop(), llhttp_stop(c))
          << "llhttp: " << c.error_reason << "; we: " << ours.why;
      tally.same_stop += ours.rejected && ours.stop() == llhttp_stop(c);
      expect_same_messages(c, ours);
    } else {
      ++tally.llhttp_accepts;
      if (difference != nullptr) {
        ++tally.deliberate;
        EXPECT_TRUE(ours.rejected) << "listed as a deliberate difference but accepted";
        continue;
      }
      EXPECT_FALSE(ours.rejected) << ours.why;
      const auto heads = std::count_if(c.messages.begin(), c.messages.end(),
                                       [](const LlhttpMessage& m) { return m.headers_complete; });
      const auto completes =
          std::count_if(c.messages.begin(), c.messages.end(),
                        [](const LlhttpMessage& m) { return m.message_complete; });
      EXPECT_EQ(ours.messages.size(), static_cast<std::size_t>(heads));
      EXPECT_EQ(ours.completed, static_cast<std::size_t>(completes));
      expect_same_messages(c, ours);
    }
  }

  const int we_reject = tally.we_reject_as_llhttp + tally.handovers_we_reject;
  std::printf(
      "llhttp corpus: %d strict request cases (type \"request\", no pause/skipBody)\n"
      "  llhttp accepts %d, rejects %d, hands over %d at an Upgrade or CONNECT head\n"
      "  we reject %d: %d of llhttp's %d rejections (%d after the same complete messages and in "
      "the same part, head or body, as llhttp), plus %d handovers (%d CONNECT refused with 501, %d "
      "with non-HTTP bytes after an Upgrade head)\n"
      "  %d handovers end cleanly: same head as llhttp, upgrade flagged\n"
      "  refused on purpose although llhttp accepts: %d cases (below); a Host line was added to "
      "%d Host-less HTTP/1.1 cases before comparing\n",
      tally.cases, tally.llhttp_accepts, tally.llhttp_rejects, tally.llhttp_hands_over, we_reject,
      tally.we_reject_as_llhttp, tally.llhttp_rejects, tally.same_stop, tally.handovers_we_reject,
      tally.connect_refused, tally.handovers_we_reject - tally.connect_refused,
      tally.handovers_we_follow, tally.deliberate, tally.host_added);
  for (const DeliberateDifference& d : kDeliberateDifferences) {
    std::printf("  - %s: %s\n", std::string(d.title).c_str(), std::string(d.reason).c_str());
  }
}

TEST(LlhttpCorpus, EveryDeliberateDifferenceNamesARealCase) {
  const std::vector<LlhttpCase> cases = strict_request_cases();
  for (const DeliberateDifference& d : kDeliberateDifferences) {
    const bool found = std::any_of(cases.begin(), cases.end(), [&](const LlhttpCase& c) {
      return c.file == d.file && c.title == d.title;
    });
    EXPECT_TRUE(found) << d.title;
  }
}

// ---------------------------------------------------------------- lenient

// What a strict server does with each lenient case. `stop` is where strict
// llhttp rejects it (its lenient log shows only how far the flag lets it
// get); checked against Node 20's llhttp 9.3.1 with no lenient flags.
// `may_accept`: RFC 9110/9112 would also let a strict server accept what the
// flag accepts (as elsewhere here, a missing Host aside); we reject anyway.
struct LenientVerdict {
  std::string_view file, title;
  StopPoint stop;
  std::string_view refusal;  // our parser's detail, or the runner's
  bool may_accept;
  std::string_view rule;
};

constexpr std::string_view kFold = "obsolete line folding";
constexpr std::string_view kBareCr = "CR not followed by LF";
constexpr std::string_view kCtl = "control character in header value";
constexpr std::string_view kAfterClose = "data after Connection: close";
constexpr std::string_view kBadChunk = "chunked body refused";
constexpr std::string_view kTeAndCl = "both Transfer-Encoding and Content-Length";
constexpr std::string_view kNotFinal = "chunked is not the final transfer coding";

// clang-format off
constexpr LenientVerdict kLenientVerdicts[] = {
    // Keep-alive: bytes after a message that ends the connection are not read.
    {"request/connection.md", "Resetting flags when keep-alive is off (1.0, lenient)", {1, false},
     kAfterClose, false, "RFC 9112 §9.3: an HTTP/1.0 request without keep-alive ends the connection"},
    {"request/connection.md", "CRLF between requests, explicit `close` (lenient)", {1, false},
     kAfterClose, false, "RFC 9112 §9.6: after `close` a server MUST NOT process further requests"},
    // Content-Length with Transfer-Encoding (request smuggling).
    {"request/content-length.md",
     "No error on simultaneous `Content-Length` and `Transfer-Encoding: identity` (lenient)",
     {0, false}, kTeAndCl, false,
     "RFC 9112 §6.3: Transfer-Encoding not ending in chunked MUST get 400 and a close"},
    {"request/transfer-encoding.md", "POST with `Transfer-Encoding` and `Content-Length` (lenient)",
     {0, false}, kTeAndCl, false, "as above (`identity` first, then Content-Length)"},
    {"request/transfer-encoding.md", "POST with `chunked` before other transfer-coding (lenient)",
     {0, false}, kNotFinal, false,
     "RFC 9112 §6.3: chunked not the final coding: the length is unknown, MUST 400 and close"},
    {"request/transfer-encoding.md",
     "POST with `chunked` and duplicate transfer-encoding (lenient)", {0, false}, kNotFinal, false,
     "as above, the codings in two lines (RFC 9110 §5.3: one list)"},
    // Whitespace between field name and colon.
    {"request/connection.md", "Invalid whitespace token with `Connection` header field (lenient)",
     {0, false}, "invalid header field name", false,
     "RFC 9112 §5.1: a server MUST reject whitespace before the colon with 400"},
    {"request/content-length.md",
     "Invalid whitespace token with `Content-Length` header field (lenient)", {0, false},
     "invalid header field name", false, "as above; the smuggling classic"},
    // obs-fold.
    {"request/connection.md", "Multiple tokens with folding", {0, false}, kFold, true,
     "RFC 9112 §5.2: a server MUST reject obs-fold with 400 or replace it with SP"},
    {"request/connection.md", "Multiple tokens with folding, LWS, and CRLF", {0, false}, kFold,
     true, "as above"},
    {"request/invalid.md", "Spaces before headers (lenient)", {0, false}, kFold, true,
     "as above; unfolded, `Foo: bar Content-Length: 38` leaves two bodiless requests"},
    {"request/sample.md", "Line folding in header value with CRLF", {0, false}, kFold, true,
     "as above"},
    {"request/sample.md", "X-SSL-Nonsense", {0, false}, kFold, true, "as above"},
    {"request/transfer-encoding.md", "Invalid OBS fold after chunked value", {0, false}, kFold,
     false, "unfolded, `chunked   abc` is no transfer coding: 400 either way (llhttp too)"},
    // Whitespace after the start line.
    {"request/lenient-header-value-relaxed.md", "Space after start line must still fail",
     {0, false}, "whitespace before the first header field", true,
     "RFC 9112 §2.2: reject, or ignore each whitespace-preceded line (llhttp always rejects)"},
    // Bare CR.
    {"request/content-length.md", "Missing CRLF-CRLF before body (lenient)", {0, false}, kBareCr,
     false, "RFC 9112 §2.2: a bare CR is invalid or becomes SP; as SP it folds into a bad "
     "Content-Length"},
    {"request/invalid.md", "Headers separated by dummy characters (lenient)", {0, false}, kBareCr,
     false, "as SP it folds `ZGET /evil: HTTP/1.1` into Host: 400 either way"},
    {"request/sample.md", "No LF after CR (lenient)", {0, false}, kBareCr, false,
     "as SP the request line becomes `GET / HTTP/1.1 Line: 1`: 400 either way"},
    {"request/lenient-header-value-relaxed.md",
     "CR without LF in header value should be rejected even with relaxed flag", {0, false},
     kBareCr, true, "RFC 9112 §2.2 MAY replace a bare CR with SP: `x: Transfer-Encoding: "
     "chunked` is then one field, the request is fine and its would-be body a bad next request "
     "(llhttp always rejects)"},
    {"request/lenient-headers.md", "Empty headers separated by CR (lenient)", {0, false}, kBareCr,
     true, "as above, with `Connection: Close`: one bodiless request"},
    {"request/transfer-encoding.md", "Chunk header not terminated by CRLF (lenient)", {0, true},
     kBadChunk, false, "RFC 9112 §7.1: chunk-size ends in CRLF; as SP the chunk data is misframed"},
    // Bare LF.
    {"request/invalid.md", "Only LFs present (lenient)", {0, false},
     "request line does not end after the version", false,
     "RFC 9112 §2.2 MAY take a bare LF as a line end in the head, but not in the chunk lines "
     "(§7.1), so the body would fail"},
    {"request/lenient-header-value-relaxed.md",
     "LF in header value should be rejected even with relaxed flag", {0, false},
     "header line ends in a bare LF", true,
     "RFC 9112 §2.2 MAY take the bare LF as a line end: `x:` then a chunked request (llhttp "
     "always rejects; two parsers disagreeing on it is a smuggling vector)"},
    // Control characters in field values.
    {"request/lenient-header-value-relaxed.md", "Control char in header value (relaxed)",
     {0, false}, kCtl, true,
     "RFC 9110 §5.5: CTLs are invalid, but a recipient MAY retain them in a safe context"},
    {"request/lenient-headers.md", "Header value (lenient)", {0, false}, kCtl, true, "as above"},
    {"request/lenient-headers.md", "Second request header value (lenient)", {1, false}, kCtl,
     true, "as above, in the second request: the first is answered"},
    // Chunk framing.
    {"request/transfer-encoding.md", "Chunk data not terminated by CRLF (lenient)", {0, true},
     kBadChunk, false, "RFC 9112 §7.1: chunk-data is followed by CRLF"},
    {"request/transfer-encoding.md", "Space after chunk header (lenient)", {0, true}, kBadChunk,
     false, "RFC 9112 §7.1.1: BWS is allowed only before `;`"},
    // Version.
    {"request/lenient-version.md", "Invalid HTTP version (lenient)", {0, false},
     "HTTP major version is not 1", false, "RFC 9110 §6.2: HTTP/5.6 is not served (505)"},
};
// clang-format on

const LenientVerdict* lenient_verdict(const LlhttpCase& c) {
  for (const LenientVerdict& v : kLenientVerdicts) {
    if (v.file == c.file && v.title == c.title) return &v;
  }
  return nullptr;
}

TEST(LlhttpCorpus, LenientCasesAreRejectedWhereStrictLlhttpRejects) {
  const std::vector<LlhttpCase> cases = request_cases(true);
  ASSERT_FALSE(cases.empty()) << "no cases under " << kCorpus;
  int rejected = 0, may_accept = 0, with_host = 0;
  for (const LlhttpCase& c : cases) {
    SCOPED_TRACE(name_of(c) + " [" + c.type + "]");
    ASSERT_EQ(c.span_mismatches, 0) << "misread the case markdown";
    const LenientVerdict* v = lenient_verdict(c);
    ASSERT_NE(v, nullptr) << "a lenient case without a verdict: add it to kLenientVerdicts";
    const OurRun ours = serve(c.input);
    EXPECT_TRUE(ours.rejected) << "accepted what llhttp accepts only with a lenient flag";
    EXPECT_EQ(ours.why, v->refusal) << "rejected, but not for what the case is about";
    EXPECT_EQ(ours.stop(), v->stop);
    // What we accepted before the refusal is what llhttp made of it too.
    expect_same_messages(c, ours);
    // Strict llhttp never gets further than its lenient log: a verdict that
    // says so is misread.
    EXPECT_GE(llhttp_stop(c).completed, v->stop.completed);
    rejected += ours.rejected;
    may_accept += v->may_accept;
    with_host += ours.host_lines_added > 0;
  }
  EXPECT_EQ(cases.size(), std::size(kLenientVerdicts)) << "a verdict names no case";
  std::printf(
      "llhttp corpus: %zu lenient request cases (accepted by llhttp only with a lenient flag)\n"
      "  we reject %d, each at the message (head or body) where strict llhttp rejects, for the "
      "listed reason; a Host line was added to %d before comparing\n"
      "  %d of them RFC 9110/9112 would let a strict server accept; rejected anyway:\n",
      cases.size(), rejected, with_host, may_accept);
  for (const LenientVerdict& v : kLenientVerdicts) {
    if (v.may_accept) {
      std::printf("  - %s: %s\n", std::string(v.title).c_str(), std::string(v.rule).c_str());
    }
  }
}

// Every prefix of every case's first head parses as `incomplete` or exactly
// as the whole does: the answer does not depend on how the bytes arrive.
TEST(LlhttpCorpus, PrefixesParseAsIncompleteOrAsTheWhole) {
  for (const bool lenient : {false, true}) {
    for (const LlhttpCase& c : request_cases(lenient)) {
      SCOPED_TRACE(name_of(c));
      std::array<HeaderField, 100> fields;
      RequestHead whole;
      const ParseResult final_result =
          parse_request_head(c.input, ParseLimits{}, fields.data(), fields.size(), whole);
      const std::size_t whole_length = whole.head_length;
      for (std::size_t n = 0; n < c.input.size(); ++n) {
        RequestHead head;
        const ParseResult r = parse_request_head(std::string_view(c.input).substr(0, n),
                                                 ParseLimits{}, fields.data(), fields.size(), head);
        if (r.status == ParseStatus::incomplete) continue;
        ASSERT_EQ(r.status, final_result.status) << "prefix " << n;
        EXPECT_EQ(r.error, final_result.error);
        EXPECT_EQ(r.detail, final_result.detail);
        if (r.status == ParseStatus::complete) {
          EXPECT_EQ(head.head_length, whole_length);
        }
      }
    }
  }
}

TEST(LlhttpCorpus, MarkdownDecoding) {
  EXPECT_EQ(test::decode_http_block({"GET / HTTP/1.1", "A: b\\", "c", "", ""}),
            "GET / HTTP/1.1\r\nA: bc\r\n\r\n");
  EXPECT_EQ(test::decode_http_block({"x\\r\\n\\t\\f\\x7F\\\\y"}), "x\r\n\t\f\x7f\\\\y");
}

// h2o's fuzzing corpus: nothing crashes, every view stays inside the input,
// and find_head_end agrees with the parser wherever a head completes.
TEST(H2oCorpus, ParsesWithinBounds) {
  int files = 0, complete = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus / "h2o-http1-fuzz/corpus")) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    ++files;
    std::array<HeaderField, 100> fields;
    RequestHead head;
    const ParseResult r =
        parse_request_head(bytes, ParseLimits{}, fields.data(), fields.size(), head);
    if (r.status != ParseStatus::complete) continue;
    ++complete;
    const auto inside = [&](std::string_view v) {
      return v.empty() ||
             (v.data() >= bytes.data() && v.data() + v.size() <= bytes.data() + bytes.size());
    };
    EXPECT_LE(head.head_length, bytes.size());
    EXPECT_EQ(find_head_end(bytes), head.head_length) << entry.path();
    EXPECT_TRUE(inside(head.method) && inside(head.target) && inside(head.path) &&
                inside(head.query));
    for (std::size_t i = 0; i < head.num_headers; ++i) {
      EXPECT_TRUE(inside(head.headers[i].name) && inside(head.headers[i].value));
      EXPECT_FALSE(head.headers[i].name.empty());
    }
  }
  EXPECT_GT(files, 1000);
  std::printf("h2o corpus: %d requests, %d complete heads accepted\n", files, complete);
}

}  // namespace
}  // namespace httpkit::http
