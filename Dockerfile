# syntax=docker/dockerfile:1
# Speech analytics gateway. Build: docker build -t speech-gateway .
# The image carries Debian's pocketsphinx (en-US) and the small Vosk models for
# en-US and nl-NL; with models present, `--asr auto` picks Vosk.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# ffi-napi (a dependency of the vosk package) ships no prebuilt binary: npm ci compiles it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE} AS models
ARG VOSK_MODEL_EN_URL=https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip
ARG VOSK_MODEL_NL_URL=https://alphacephei.com/vosk/models/vosk-model-small-nl-0.22.zip
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl unzip \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /models
RUN curl -fsSL -o en.zip "$VOSK_MODEL_EN_URL" && unzip -q en.zip && rm en.zip \
 && curl -fsSL -o nl.zip "$VOSK_MODEL_NL_URL" && unzip -q nl.zip && rm nl.zip \
 && mv vosk-model-small-en-us-* en-US && mv vosk-model-small-nl-* nl-NL

FROM ${NODE_IMAGE}
# libespeak-ng1: the phonemes of phonetic intent matching (PHONETIC_MATCHING, on by default) for nl-NL
# and for words pocketsphinx's dictionary lacks.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpocketsphinx3 libsphinxbase3 pocketsphinx-en-us libespeak-ng1 tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY proto ./proto
COPY grammars ./grammars
# The agent, supervisor and insights pages (static files served as they are; their chart library comes from node_modules).
COPY src/web ./src/web
COPY --from=models /models /models
# Post-call records (CALL_RECORDS_FILE, var/call-records.jsonl under /app): the only place the gateway
# writes, so the only directory the non-root user owns; mount a volume here to keep them.
RUN mkdir -p /app/var && chown node:node /app/var
ENV NODE_ENV=production \
    VOSK_MODEL=/models/en-US \
    VOSK_MODEL_NL=/models/nl-NL \
    HTTP_PORT=8080 \
    GRPC_PORT=50051 \
    RTP_PORT_MIN=40000 \
    RTP_PORT_MAX=40999
USER node
# HTTP (pages, /v1/events, /v1/calls, /v1/alerts, /metrics, /healthz), gRPC control plane, RTP/RTCP range.
EXPOSE 8080/tcp 50051/tcp 40000-40999/udp
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/src/cli.js"]
CMD ["serve"]
