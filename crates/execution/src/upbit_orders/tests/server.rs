//! A minimal in-process HTTP/1.1 server (tokio only) that answers with
//! recorded Upbit payloads, records each request, and can drop a connection
//! after reading a request — a transport failure *after* sending.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// One request as received.
#[derive(Debug, Clone)]
pub(super) struct Req {
    pub(super) method: String,
    pub(super) path: String,
    pub(super) query: Option<String>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: String,
}

impl Req {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What to do with a request.
pub(super) enum Action {
    /// Answer with a status and a body.
    Reply(u16, String),
    /// Close the connection without answering.
    Drop,
}

type Handler = Arc<dyn Fn(&Req, usize) -> Action + Send + Sync>;

pub(super) struct MiniServer {
    pub(super) addr: SocketAddr,
    log: Arc<Mutex<Vec<Req>>>,
}

impl MiniServer {
    pub(super) async fn start(
        handler: impl Fn(&Req, usize) -> Action + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log: Arc<Mutex<Vec<Req>>> = Arc::default();
        let handler: Handler = Arc::new(handler);
        let accept_log = log.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(serve(sock, accept_log.clone(), handler.clone()));
            }
        });
        Self { addr, log }
    }

    pub(super) fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(super) fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }
}

async fn serve(mut sock: TcpStream, log: Arc<Mutex<Vec<Req>>>, handler: Handler) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap().split(' ');
    let method = first.next().unwrap().to_owned();
    let target = first.next().unwrap().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target, None),
    };
    let req = Req {
        method,
        path,
        query,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let n = {
        let mut l = log.lock().unwrap();
        l.push(req.clone());
        l.len() - 1
    };
    match handler(&req, n) {
        Action::Drop => {}
        Action::Reply(status, body) => {
            let resp = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json; charset=utf-8\r\nremaining-req: group=default; min=1800; sec=29\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    }
}
