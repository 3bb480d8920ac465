//! The public entry points every driver offers, written once: a driver invokes
//! [`driver_api!`](crate::driver_api) with its `runtime()` function, its TCP listener type and its
//! function that turns an accepted stream into a [`Connection`](crate::io::Connection).

/// Defines a driver's entry points: `connect_in_memory`, `connect_over_sse`,
/// `connect_over_sse_to`, `sse_server`, `connect_with`, the `ClientConnect` trait
/// (`Client::connect(url, options)`) and `serve`.
#[macro_export]
macro_rules! driver_api {
    (runtime = $runtime:path, listener = $listener:ty, accept_stream = $wrap:path $(,)?) => {
        /// Connects a client to `server` in memory (no HTTP).
        pub async fn connect_in_memory(
            server: $crate::McpServer,
            options: $crate::ClientOptions,
        ) -> Result<$crate::Client, $crate::ConnectError> {
            $crate::connect_in_memory($runtime(), server, options).await
        }

        /// Connects a client to `server` over the real HTTP+SSE path through in-memory pipes.
        pub async fn connect_over_sse(
            server: $crate::McpServer,
            options: $crate::ClientOptions,
        ) -> Result<$crate::Client, $crate::ConnectError> {
            $crate::connect_over_sse($runtime(), server, options).await
        }

        /// Connects a client to an existing in-process [`SseServer`] through in-memory pipes.
        pub async fn connect_over_sse_to(
            server: std::sync::Arc<$crate::SseServer>,
            options: $crate::ClientOptions,
        ) -> Result<$crate::Client, $crate::ConnectError> {
            $crate::connect_over_sse_to($runtime(), server, options).await
        }

        /// An in-process [`SseServer`] (to share between clients or inspect its session table).
        pub fn sse_server(
            server: $crate::McpServer,
            config: $crate::core::transport::ServerConfig,
        ) -> std::sync::Arc<$crate::SseServer> {
            $crate::SseServer::new($runtime(), server, config, Box::new($crate::os_random))
        }

        /// Connects over TCP with explicit transport settings (headers, timeouts, limits).
        pub async fn connect_with(
            url: &str,
            options: $crate::ClientOptions,
            transport_config: $crate::core::transport::ClientConfig,
        ) -> Result<$crate::Client, $crate::ConnectError> {
            $crate::connect_url($runtime(), url, options, transport_config).await
        }

        /// `Client::connect(url, options)` for this runtime.
        pub trait ClientConnect: Sized {
            /// Connects over TCP to any legacy SSE server (`http://host:port/sse`).
            fn connect(
                url: &str,
                options: $crate::ClientOptions,
            ) -> $crate::BoxFuture<'_, Result<Self, $crate::ConnectError>>;
        }

        impl ClientConnect for $crate::Client {
            fn connect(
                url: &str,
                options: $crate::ClientOptions,
            ) -> $crate::BoxFuture<'_, Result<Self, $crate::ConnectError>> {
                Box::pin(connect_with(url, options, Default::default()))
            }
        }

        /// Serves `server` on `listener` (accept loop in the background) and returns at once.
        pub fn serve(
            listener: $listener,
            server: $crate::McpServer,
            options: $crate::ServerOptions,
        ) -> std::io::Result<$crate::Serving> {
            let local_addr = listener.local_addr()?;
            let listener = std::sync::Arc::new(listener);
            let accept = move || {
                let l = listener.clone();
                Box::pin(async move {
                    let (stream, _) = l.accept().await?;
                    Ok($wrap(stream))
                }) as $crate::BoxFuture<'static, std::io::Result<$crate::io::Connection>>
            };
            Ok($crate::serve_with(
                $runtime(),
                accept,
                local_addr,
                server,
                options,
            ))
        }
    };
}
