# syntax=docker/dockerfile:1
# Build the Native AOT binary, then ship it alone in a minimal, non-root runtime image.

# The base images, overridable (mirrors, pinned digests; the end-to-end test builds both stages on local stand-ins).
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled

FROM ${SDK_IMAGE} AS build
RUN apt-get update && apt-get install -y --no-install-recommends clang zlib1g-dev libsqlite3-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props .editorconfig ./
COPY src/ src/
COPY config/registry/ config/registry/
RUN dotnet publish src/Archestra.Edge/Archestra.Edge.csproj -c Release -r linux-x64 -o /out -p:TreatWarningsAsErrors=true \
    && mkdir -p /state

FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /app
COPY --from=build /out/archestra-edge /app/archestra-edge
COPY archestra.yaml.example /etc/archestra/archestra.yaml
# Local state (tokens, OAuth, audit trail, child records): a volume in production.
COPY --from=build --chown=app:app /state /var/lib/archestra
VOLUME /var/lib/archestra
USER app
EXPOSE 9000
ENTRYPOINT ["/app/archestra-edge"]
CMD ["serve", "--config", "/etc/archestra/archestra.yaml", "--listen", "http://0.0.0.0:9000", "--data-dir", "/var/lib/archestra"]
