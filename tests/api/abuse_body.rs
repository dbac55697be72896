//! Bodies are capped before they are read whole: a chunked body (no `Content-Length`) over
//! 256 KiB is a 413, and an endless one is answered without being read to its end (the server
//! reads at most 4 MiB, answers and closes). A chunked body within the limit works as any other.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::helpers::{TestApp, WAIT};
use crate::scene::Scene;
use crate::stores::{TestStore, on_every_store};

on_every_store!(
    chunked_bodies_are_read_whole_within_the_limit_and_413_over_it,
    an_endless_chunked_body_is_413_and_left_unread,
);

/// A connection with the head of a chunked `POST` of the visitor's message already sent.
async fn chunked_post(app: &TestApp, s: &Scene) -> (OwnedReadHalf, OwnedWriteHalf) {
    let address = app.address();
    let host = address.trim_start_matches("http://");
    let stream = TcpStream::connect(host).await.expect("connect");
    let (read, mut write) = stream.into_split();
    let head = format!(
        "POST /api/v1/visitor/conversations/{}/messages HTTP/1.1\r\nHost: {host}\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        s.conv(),
        s.token()
    );
    write.write_all(head.as_bytes()).await.expect("send head");
    (read, write)
}

/// Sends `data` as one chunk.
async fn chunk(write: &mut OwnedWriteHalf, data: &[u8]) -> std::io::Result<()> {
    write
        .write_all(format!("{:x}\r\n", data.len()).as_bytes())
        .await?;
    write.write_all(data).await?;
    write.write_all(b"\r\n").await
}

/// Reads an answer's head and its `Content-Length` body: (status, body).
async fn answer(read: &mut OwnedReadHalf) -> (u16, String) {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = read.read(&mut buf).await.expect("read the answer");
        assert!(n > 0, "the server closed without answering");
        got.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&got[..head_end]).to_ascii_lowercase();
    let status = head[9..12].parse().expect("a status");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while got.len() < head_end + length {
        let n = read.read(&mut buf).await.expect("read the body");
        assert!(n > 0, "the body was cut");
        got.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&got[head_end..head_end + length]).into_owned();
    (status, body)
}

async fn chunked_bodies_are_read_whole_within_the_limit_and_413_over_it(store: TestStore) {
    let mut s = Scene::new(store).await;
    let (mut read, mut write) = chunked_post(&s.app, &s).await;
    for part in [&b"{\"text\": "[..], b"\"chunked ", b"hello\"}"] {
        chunk(&mut write, part).await.expect("send");
    }
    write.write_all(b"0\r\n\r\n").await.expect("end");
    let (status, body) = answer(&mut read).await;
    assert_eq!(status, 201, "{body}");
    s.texts.push("chunked hello".into());
    s.assert_only_fired(&["messageVisitor"]).await;

    // 1 MiB in 64 KiB chunks, ended: read to its end, then refused.
    let (mut read, mut write) = chunked_post(&s.app, &s).await;
    chunk(&mut write, b"{\"text\": \"").await.expect("send");
    for _ in 0..16 {
        chunk(&mut write, &[b'x'; 64 * 1024]).await.expect("send");
    }
    chunk(&mut write, b"\"}").await.expect("send");
    write.write_all(b"0\r\n\r\n").await.expect("end");
    let (status, body) = answer(&mut read).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("256 KiB"), "{body}");
    s.assert_nothing_fired().await;
}

async fn an_endless_chunked_body_is_413_and_left_unread(store: TestStore) {
    let mut s = Scene::new(store).await;
    let (mut read, mut write) = chunked_post(&s.app, &s).await;
    const LIMIT: u64 = 1 << 30;
    let sender = tokio::spawn(async move {
        let data = vec![b'x'; 64 * 1024];
        let mut sent: u64 = 0;
        while sent < LIMIT {
            if let Err(e) = chunk(&mut write, &data).await {
                return Err((sent, e));
            }
            sent += data.len() as u64;
        }
        Ok(sent)
    });
    let (status, body) = tokio::time::timeout(WAIT, answer(&mut read))
        .await
        .expect("an answer before the body's end");
    assert_eq!(status, 413, "{body}");
    let sent = tokio::time::timeout(WAIT, sender)
        .await
        .expect("the server must close the connection rather than read on")
        .expect("the sender ran");
    match sent {
        Err((n, _)) => assert!(n < 64 << 20, "the server read {n} bytes before closing"),
        Ok(n) => panic!("the server read all {n} bytes"),
    }
    s.assert_nothing_fired().await;
}
