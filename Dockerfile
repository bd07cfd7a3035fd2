# SkillFlaw-Go: one static binary on a distroless base.
FROM golang:1.26 AS build
WORKDIR /src
ENV GOTOOLCHAIN=local CGO_ENABLED=0
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -trimpath -ldflags="-s -w" -o /out/skillflaw ./cmd/skillflaw

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/skillflaw /usr/local/bin/skillflaw
ENV SKILLFLAW_HOST=0.0.0.0 \
    SKILLFLAW_PORT=7860 \
    SKILLFLAW_CONFIG_DIR=/home/nonroot/.cache/skillflaw
EXPOSE 7860
ENTRYPOINT ["/usr/local/bin/skillflaw"]
CMD ["serve"]
