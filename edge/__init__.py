"""The edge proxy: REST/JSON transcoding, SSE, CORS, gRPC-Web and gRPC pass-through."""
