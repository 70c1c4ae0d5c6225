"""The sandbox's Greenhouse: Harvest v1 (legacy, Basic auth with an API key) and v3 (OAuth 2
client credentials), with the token endpoint of auth.greenhouse.io. The real hosts are
https://harvest.greenhouse.io/v1, https://harvest.greenhouse.io/v3 and
https://auth.greenhouse.io/token; the sandbox serves them under /harvest/v1, /harvest/v3 and
/greenhouse-auth/token.

Sources (read 2026; the letters are cited below)
  [V1] Harvest v1 reference, https://developers.greenhouse.io/harvest.html, from its source
       github.com/grnhse/greenhouse-api-docs: source/includes/harvest/_introduction.md
       (Basic auth, throttling, paging, 422 validation shape, error table), _candidates.md (list
       with `email`, retrieve, POST notes, POST emails, POST prospects), _users.md (list with
       `email`), _activity_feed.md (read in the fork
       www-jrtorres042-github-enterprise-org/greenhouse-api-docs).
  [AUTH] https://harvestdocs.greenhouse.io/docs/authentication: POST auth.greenhouse.io/token,
       Basic client_id:client_secret, form grant_type=client_credentials&sub=<user id>, then
       `Authorization: Bearer`; the `sub` user needs the permissions of the calls (the sentence
       on list endpoints is cut off in the copy read).
  [TTL] https://harvestdocs.greenhouse.io/docs/harvest-partner-oauth: access tokens live 1 hour.
  [PAGE] https://harvestdocs.greenhouse.io/docs/pagination and /docs/list-endpoints: cursor
       paging, only a rel="next" link, the cursor must be the only parameter, per_page on the
       first request, `ids` and `*_ids` filters; examples on harvest.greenhouse.io/v3.
  [MIG] https://harvestdocs.greenhouse.io/docs/step-by-step-migration-instructions (v1
       activity_feed -> GET /v3/notes) and /docs/write-endpoint-migration-guide (v1 add
       application to candidate/prospect -> POST /v3/applications).
  [REF] The v3 endpoint reference pages (get_v3-candidates, get_v3-users, get_v3-notes,
       post_v3-notes, generate-token) could not be read directly. Their fields come from
       third-party code written against them: github.com/sam-vangelos/greenhouse-mcp (an
       inventory of the vendored reference, packages/action-mcp/src/actions/
       candidate-note-create.ts, packages/action-mcp/src/greenhouse.ts) and
       conductorone/baton-greenhouse pkg/client (token response with `expires_at`).

Routes
  POST /greenhouse-auth/token  [AUTH][TTL][REF]
      Answers {"access_token", "token_type": "Bearer", "expires_at"} (ISO 8601). The token is an
      RS256 JWT (sub, client_id, scope, iat, exp, jti: claim names unconfirmed) valid 1 hour.
      Without `sub` it acts as the credential's service account. Errors use RFC 6749's shape
      (invalid_client 401, unsupported_grant_type / invalid_request 400): unconfirmed.
  GET  /harvest/v1/candidates?email=&per_page=&page=  [V1]
  GET  /harvest/v1/candidates/{id}  [V1]
  GET  /harvest/v1/candidates/{id}/activity_feed  [V1]
      {"notes", "emails", "activities"}, newest first (the order of the documented example).
      An email's `cc` is one string here, as documented, and a list in the create answer.
  POST /harvest/v1/candidates/{id}/activity_feed/notes  [V1]
      {user_id, body, visibility: admin_only|private|public}; the answer keeps the documented
      legacy key `visiblity` next to `visibility`.
  POST /harvest/v1/candidates/{id}/activity_feed/emails  [V1]
      {user_id, to, from, cc?: [..], subject, body}.
  GET  /harvest/v1/users?email=  [V1]  (primary or secondary address)
  POST /harvest/v1/prospects  [V1]
      Jobless prospects only: the sandbox has no jobs, so application.job_ids must be empty.
  GET  /harvest/v3/candidates?email=&ids=&per_page= | ?cursor=  [PAGE][REF]
      `email` exact and case-insensitive.
  GET  /harvest/v3/users?primary_email=&ids=&deactivated=&show_service_accounts=  [REF]
  GET  /harvest/v3/notes?candidate_ids=&user_ids=&ids=&type=&visibility=  [MIG][REF]
      type NOTE|EMAIL|ACTIVITY, visibility admin_only_visible|privately_visible|
      publicly_visible.
  POST /harvest/v3/notes  [REF]
      {candidate_id, application_id?, user_id? (default: the token's user), body,
      visibility: admin_only|private|public, note_type: NOTE|ACTIVITY|EMAIL (default NOTE),
      subject?, and for EMAIL email_from, email_to, email_cc?}. The request fields are those of
      the third-party code; the names of the email fields (email_from/email_to/email_cc) and the
      NOTE default are unconfirmed.

Behaviour common to all Harvest routes
  - Rate limit [V1]: X-RateLimit-Limit / X-RateLimit-Remaining on every authenticated answer,
    per credential (a v1 key, a v3 client), 50 requests per 10 s by default; past it 429, which
    per [V1] carries neither X-RateLimit header. Retry-After (seconds) is not in Greenhouse's
    text read here (it is in third-party descriptions); the windows are fixed 10-second windows
    aligned on the clock, where Greenhouse's may be rolling; v3's own rate-limit page
    (docs/api-rate-limiting) could not be read, so v3 is limited as v1.
  - v1 keys carry per-endpoint permissions [V1]; v3 clients carry scopes such as
    harvest:candidates:list [AUTH][REF]; v3 list routes need a site-admin user [REF] (the
    service account counts as one: unconfirmed).
  - v1 writes need `On-Behalf-Of: <user id>` [V1]. A missing or unknown one answers 403
    {"message": "Missing or invalid On-Behalf-Of header"}: status and wording unconfirmed.
  - Errors: {"message"} bodies; 422 {"message": "Validation error", "errors": [{"message",
    "field"}]} [V1]. The wordings of 401 ("Unauthorized"), 403, 404 ("Resource not found"),
    400 on malformed JSON, and every v3 error body are the sandbox's. Creates answer 201
    (documented for other v1 creates, not for these).
  - Ids are large integers from one sequence, as Greenhouse's are unique across types; v3
    pages are in id order (the order is not documented).

No v3 equivalent (not served)
  - activity_feed: v3 lists notes (GET /v3/notes) [MIG]; an email is a note of type EMAIL.
  - /prospects: a prospect is an application in v3 (POST /v3/candidates, then POST
    /v3/applications [MIG]); their bodies could not be confirmed, so neither is served.
  - On-Behalf-Of: a v3 call acts as its token's `sub`.
  - A secondary-address user lookup: v3 users filter on primary_email only [REF].
  - The transition-period JWT minted from a v1 key [AUTH] is not served.
"""
